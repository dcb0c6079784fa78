import { describe, expect, it } from "vitest";

import {
  normaliseFilterExpression,
  normalisePatchMessage,
  normaliseResourceBody,
  rewriteTypedElementUpserts,
} from "../../src/sources/scim/compat/normalise-request.ts";

// Payloads are copied from the vendor documents named in src/sources/scim/compat/ (Microsoft's Entra SCIM
// tutorial and compatibility notes, Okta's SCIM 2.0 reference) and the scimmy 1.3.5 behaviour each step works around.
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

describe("Entra PATCH /Users", () => {
  it("Entra disables with a string boolean Replace active 'False'", () => {
    const sent = patch({ op: "Replace", path: "active", value: "False" });
    expect(normalisePatchMessage(sent, "User")).toEqual(patch({ op: "replace", path: "active", value: false }));
  });

  it("Entra re-enables with a string boolean Replace active 'True'", () => {
    const sent = patch({ op: "Replace", path: "active", value: "True" });
    expect(normalisePatchMessage(sent, "User")).toEqual(patch({ op: "replace", path: "active", value: true }));
  });

  it("Entra doc Disable User (boolean false, capitalised Replace) only has its op lowercased", () => {
    const sent = { Operations: [{ op: "Replace", path: "active", value: false }], schemas: [PATCH_OP] };
    expect(normalisePatchMessage(sent, "User")).toEqual({
      Operations: [{ op: "replace", path: "active", value: false }],
      schemas: [PATCH_OP],
    });
  });

  it("Entra aadOptscim062020 disable (RFC-correct) passes through unchanged", () => {
    const sent = patch({ op: "replace", path: "active", value: false });
    expect(normalisePatchMessage(sent, "User")).toEqual(sent);
  });

  it("Entra doc Update User [Multi-valued properties] lowercases Replace and keeps the filtered path", () => {
    const sent = patch(
      { op: "Replace", path: 'emails[type eq "work"].value', value: "updatedEmail@microsoft.com" },
      { op: "Replace", path: "name.familyName", value: "updatedFamilyName" },
    );
    expect(normalisePatchMessage(sent, "User")).toEqual(
      patch(
        { op: "replace", path: 'emails[type eq "work"].value', value: "updatedEmail@microsoft.com" },
        { op: "replace", path: "name.familyName", value: "updatedFamilyName" },
      ),
    );
  });

  it("Entra doc Update User [Single-valued properties] Replace userName", () => {
    const sent = patch({ op: "Replace", path: "userName", value: "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com" });
    expect(normalisePatchMessage(sent, "User")).toEqual(
      patch({ op: "replace", path: "userName", value: "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com" }),
    );
  });

  it("Entra compat doc Add single-value nickName (without flag) is lowercased", () => {
    const sent = patch({ op: "Add", path: "nickName", value: "Babs" });
    expect(normalisePatchMessage(sent, "User")).toEqual(patch({ op: "add", path: "nickName", value: "Babs" }));
  });

  it("Entra compat doc replace multiple attributes (without flag) keeps paths and values", () => {
    const paths: [string, string][] = [
      ["displayName", "Pvlo"],
      ['emails[type eq "work"].value', "TestBcwqnm@test.microsoft.com"],
      ["name.givenName", "Gtfd"],
      ["name.familyName", "Pkqf"],
      ["externalId", "Eqpj"],
      [`${ENTERPRISE}:employeeNumber`, "Eqpj"],
    ];
    const sent = patch(...paths.map(([path, value]) => ({ op: "Replace", path, value })));
    expect(normalisePatchMessage(sent, "User")).toEqual(patch(...paths.map(([path, value]) => ({ op: "replace", path, value }))));
  });

  it("Entra aadOptscim062020 path-less multi-replace with dotted and URN keys passes through unchanged", () => {
    const sent = patch(
      { op: "replace", path: 'emails[type eq "work"].value', value: "TestMhvaes@test.microsoft.com" },
      {
        op: "replace",
        value: {
          displayName: "Bjfe",
          "name.givenName": "Kkom",
          "name.familyName": "Unua",
          [`${ENTERPRISE}:employeeNumber`]: "Aklq",
        },
      },
    );
    expect(normalisePatchMessage(sent, "User")).toEqual(sent);
  });

  it("Entra (laravel-scim-server#34) Replace work email/address and Add enterprise department are only lowercased", () => {
    const sent = {
      schemas: [PATCH_OP],
      Operations: [
        { op: "Replace", path: 'emails[type eq "work"].value', value: "AdeleV2@REDACTED.onmicrosoft.com" },
        { op: "Replace", path: 'addresses[type eq "work"].formatted', value: "18/2111" },
        { op: "Add", path: `${ENTERPRISE}:department`, value: "Retail" },
      ],
    };
    expect(normalisePatchMessage(sent, "User")).toEqual({
      schemas: [PATCH_OP],
      Operations: [
        { op: "replace", path: 'emails[type eq "work"].value', value: "AdeleV2@REDACTED.onmicrosoft.com" },
        { op: "replace", path: 'addresses[type eq "work"].formatted', value: "18/2111" },
        { op: "add", path: `${ENTERPRISE}:department`, value: "Retail" },
      ],
    });
  });

  it("Entra doc Example 5 Add manager with a [{$ref, value}] list becomes the enterprise manager {value}", () => {
    const sent = {
      schemas: [PATCH_OP],
      Operations: [
        {
          op: "Add",
          path: "manager",
          value: [
            {
              $ref: "http://.../scim/Users/2819c223-7f76-453a-919d-413861904646",
              value: "2819c223-7f76-453a-919d-413861904646",
            },
          ],
        },
      ],
    };
    expect(normalisePatchMessage(sent, "User")).toEqual(
      patch({ op: "add", path: `${ENTERPRISE}:manager`, value: { value: "2819c223-7f76-453a-919d-413861904646" } }),
    );
  });

  it("Entra sends the enterprise manager as a plain string id", () => {
    const sent = patch({ op: "Replace", path: `${ENTERPRISE}:manager`, value: "2819c223-7f76-453a-919d-413861904646" });
    expect(normalisePatchMessage(sent, "User")).toEqual(
      patch({ op: "replace", path: `${ENTERPRISE}:manager`, value: { value: "2819c223-7f76-453a-919d-413861904646" } }),
    );
  });

  it("Entra maps app roles with roles[primary eq \"True\"].value (lightdash#25676)", () => {
    const sent = patch({ op: "Replace", path: 'roles[primary eq "True"].value', value: "admin" });
    expect(normalisePatchMessage(sent, "User")).toEqual(
      patch({ op: "replace", path: "roles[primary eq true].value", value: "admin" }),
    );
  });

  it("Entra path-less value {active: 'False'} and primary 'True' inside element lists become booleans", () => {
    const sent = patch(
      { op: "Replace", value: { active: "False" } },
      { op: "Add", path: "emails", value: [{ type: "home", value: "x@example.com", primary: "TRUE" }] },
      { op: "Replace", path: 'emails[type eq "home"].primary', value: "false" },
      { op: "Replace", value: { 'emails[type eq "work"].primary': "True", displayName: "True" } },
    );
    expect(normalisePatchMessage(sent, "User")).toEqual(
      patch(
        { op: "replace", value: { active: false } },
        { op: "add", path: "emails", value: [{ type: "home", value: "x@example.com", primary: true }] },
        { op: "replace", path: 'emails[type eq "home"].primary', value: false },
        { op: "replace", value: { 'emails[type eq "work"].primary': true, displayName: "True" } },
      ),
    );
  });
});

describe("Entra PATCH /Groups", () => {
  it("Entra doc Update Group [Add Members] drops the null $ref", () => {
    const sent = patch({ op: "Add", path: "members", value: [{ $ref: null, value: "f648f8d5ea4e4cd38e9c" }] });
    expect(normalisePatchMessage(sent, "Group")).toEqual(
      patch({ op: "add", path: "members", value: [{ value: "f648f8d5ea4e4cd38e9c" }] }),
    );
  });

  it("Entra doc Update Group [Remove Members] keeps the value list and drops the null $ref", () => {
    const sent = patch({ op: "Remove", path: "members", value: [{ $ref: null, value: "f648f8d5ea4e4cd38e9c" }] });
    expect(normalisePatchMessage(sent, "Group")).toEqual(
      patch({ op: "remove", path: "members", value: [{ value: "f648f8d5ea4e4cd38e9c" }] }),
    );
  });

  it("Entra compat doc member removal without flag ([{value: 'u1091'}]) is only lowercased", () => {
    const sent = patch({ op: "Remove", path: "members", value: [{ value: "u1091" }] });
    expect(normalisePatchMessage(sent, "Group")).toEqual(patch({ op: "remove", path: "members", value: [{ value: "u1091" }] }));
  });

  it("Entra aadOptscim062020 member removal members[value eq \"…\"] passes through unchanged", () => {
    const sent = patch({ op: "remove", path: 'members[value eq "7f4bc1a3-285e-48ae-8202-5accb43efb0e"]' });
    expect(normalisePatchMessage(sent, "Group")).toEqual(sent);
  });

  it("Entra doc Update Group [Non-member attributes] Replace displayName is lowercased", () => {
    const sent = patch({ op: "Replace", path: "displayName", value: "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName" });
    expect(normalisePatchMessage(sent, "Group")).toEqual(
      patch({ op: "replace", path: "displayName", value: "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName" }),
    );
  });
});

describe("Entra POST bodies", () => {
  it("Entra doc Example 2 POST /Users: explicit nulls and the mistyped enterprise URN are dropped", () => {
    const sent = {
      schemas: [CORE_USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
      externalId: "jyoung",
      userName: "jyoung",
      active: true,
      addresses: null,
      displayName: "Joy Young",
      emails: [{ type: "work", value: "jyoung@Contoso.com", primary: true }],
      meta: { resourceType: "User" },
      name: { familyName: "Young", givenName: "Joy" },
      phoneNumbers: null,
      preferredLanguage: null,
      title: null,
      department: null,
      manager: null,
    };
    expect(normaliseResourceBody(sent, "User")).toEqual({
      schemas: [CORE_USER],
      externalId: "jyoung",
      userName: "jyoung",
      active: true,
      displayName: "Joy Young",
      emails: [{ type: "work", value: "jyoung@Contoso.com", primary: true }],
      meta: { resourceType: "User" },
      name: { familyName: "Young", givenName: "Joy" },
    });
  });

  it("Entra doc Create User (RFC-correct) passes through unchanged", () => {
    const sent = {
      schemas: [CORE_USER, ENTERPRISE],
      externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
      userName: "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
      active: true,
      emails: [{ primary: true, type: "work", value: "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com" }],
      meta: { resourceType: "User" },
      name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
      roles: [],
    };
    expect(normaliseResourceBody(sent, "User")).toEqual(sent);
  });

  it("Entra doc Create Group: the ADSCIM schema URI is dropped", () => {
    const sent = {
      schemas: [CORE_GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
      externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
      displayName: "displayName",
      meta: { resourceType: "Group" },
    };
    expect(normaliseResourceBody(sent, "Group")).toEqual({ ...sent, schemas: [CORE_GROUP] });
  });

  it("Entra string booleans and unknown URN keys in a PUT /Users body", () => {
    const sent = {
      schemas: [CORE_USER, "urn:ietf:params:scim:schemas:extension:Enterprise:2.0:User"],
      userName: "jyoung",
      active: "False",
      emails: [{ type: "work", value: "jyoung@Contoso.com", primary: "True" }],
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0User": { department: "Sales" },
      "urn:ietf:params:scim:schemas:extension:Enterprise:2.0:User": { department: "Sales", manager: { value: "m1" } },
    };
    expect(normaliseResourceBody(sent, "User")).toEqual({
      schemas: [CORE_USER, ENTERPRISE],
      userName: "jyoung",
      active: false,
      emails: [{ type: "work", value: "jyoung@Contoso.com", primary: true }],
      [ENTERPRISE]: { department: "Sales", manager: { value: "m1" } },
    });
  });
});

describe("Okta", () => {
  const oktaUser = {
    schemas: [CORE_USER],
    userName: "test.user@okta.local",
    name: { givenName: "Test", familyName: "User" },
    emails: [{ primary: true, value: "test.user@okta.local", type: "work" }],
    displayName: "Test User",
    locale: "en-US",
    externalId: "00ujl29u0le5T6Aj10h7",
    groups: [],
    password: "1mz050nq",
    active: true,
  };

  it("Okta POST /Users drops the placeholder password and the read-only groups", () => {
    const { password: _password, groups: _groups, ...stored } = oktaUser;
    expect(normaliseResourceBody(oktaUser, "User")).toEqual(stored);
  });

  it("Okta PUT /Users full body drops groups and keeps id and meta for the caller", () => {
    const sent = {
      schemas: [CORE_USER],
      id: "23a35c27-23d3-4c03-b4c5-6443c09e7173",
      userName: "test.user@okta.local",
      name: { givenName: "Another", middleName: "Excited", familyName: "User" },
      emails: [{ primary: true, value: "test.user@okta.local", type: "work", display: "test.user@okta.local" }],
      active: true,
      groups: [],
      meta: { resourceType: "User" },
    };
    const { groups: _groups, ...expected } = sent;
    expect(normaliseResourceBody(sent, "User")).toEqual(expected);
  });

  it("Okta Group rename strips the read-only id from the path-less value", () => {
    const sent = patch({ op: "replace", value: { id: "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", displayName: "Test SCIMv2" } });
    expect(normalisePatchMessage(sent, "Group")).toEqual(patch({ op: "replace", value: { displayName: "Test SCIMv2" } }));
  });

  it("Okta path-less {id, active: false} on a User loses the read-only id (scimmy keeps the read-only id otherwise)", () => {
    const sent = patch({ op: "replace", value: { id: "23a35c27-23d3-4c03-b4c5-6443c09e7173", active: false } });
    expect(normalisePatchMessage(sent, "User")).toEqual(patch({ op: "replace", value: { active: false } }));
  });

  it("Okta deactivation {op: replace, value: {active: false}} passes through unchanged", () => {
    const sent = patch({ op: "replace", value: { active: false } });
    expect(normalisePatchMessage(sent, "User")).toEqual(sent);
  });

  it("Okta password PATCH passes through unchanged (it must reach ingress)", () => {
    const sent = patch({ op: "replace", value: { password: "t1meMa$heen" } });
    expect(normalisePatchMessage(sent, "User")).toEqual(sent);
  });

  it("Okta membership remove by filter + add in one request passes through unchanged", () => {
    const sent = patch(
      { op: "remove", path: 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]' },
      { op: "add", path: "members", value: [{ value: "23a35c27-23d3-4c03-b4c5-6443c09e7173", display: "test.user@okta.local" }] },
    );
    expect(normalisePatchMessage(sent, "Group")).toEqual(sent);
  });

  it("Okta full membership push with replace members passes through unchanged", () => {
    const sent = patch({
      op: "replace",
      path: "members",
      value: [
        { value: "23a35c27-23d3-4c03-b4c5-6443c09e7173", display: "test.user@okta.local" },
        { value: "89bb1940-b905-4575-9e7f-6f887cfb368e", display: "test.user@okta.local" },
      ],
    });
    expect(normalisePatchMessage(sent, "Group")).toEqual(sent);
  });

  it("Okta POST /Groups and AIW PUT /Groups pass through unchanged", () => {
    const created = { schemas: [CORE_GROUP], displayName: "Test SCIMv2", members: [] };
    const replaced = {
      schemas: [CORE_GROUP],
      displayName: "Test SCIMv2",
      members: [{ value: "23a35c27-23d3-4c03-b4c5-6443c09e7173", display: "test.user@okta.local" }],
    };
    expect(normaliseResourceBody(created, "Group")).toEqual(created);
    expect(normaliseResourceBody(replaced, "Group")).toEqual(replaced);
  });
});

describe("what the normaliser leaves alone", () => {
  it("an empty Operations list stays empty so the caller answers 400 (scimmy#59, #90)", () => {
    expect(normalisePatchMessage({ schemas: [PATCH_OP], Operations: [] }, "User")).toEqual({ schemas: [PATCH_OP], Operations: [] });
  });

  it("non-object bodies, messages without an Operations array and non-object operations are returned as is", () => {
    for (const body of [null, "x", 42, [{ userName: "a" }]]) {
      expect(normaliseResourceBody(body, "User")).toBe(body);
      expect(normalisePatchMessage(body, "Group")).toBe(body);
    }
    const noOperations = { schemas: [PATCH_OP], Operations: { op: "Replace" } };
    expect(normalisePatchMessage(noOperations, "User")).toBe(noOperations);
    expect(normalisePatchMessage(patch("Replace", null), "User")).toEqual(patch("Replace", null));
  });

  it("the input is never modified", () => {
    const sent = patch(
      { op: "Replace", path: "active", value: "False" },
      { op: "Add", path: "members", value: [{ $ref: null, value: "u1" }] },
      { op: "replace", value: { id: "g1", displayName: "x" } },
    );
    const body = { schemas: [CORE_USER, "urn:x"], title: null, password: "p", active: "True" };
    const before = structuredClone({ sent, body });
    normalisePatchMessage(sent, "User");
    normaliseResourceBody(body, "User");
    expect({ sent, body }).toEqual(before);
  });
});

describe("typed element upserts (Entra Add on an absent filtered element)", () => {
  const current = {
    schemas: [CORE_USER],
    userName: "jyoung",
    emails: [{ type: "work", value: "jyoung@Contoso.com", primary: true }],
    addresses: [{ type: "home", locality: "Oslo" }],
  };

  it("Entra Add emails[type eq \"home\"].value creates the home email (SCIM-SDK#416)", () => {
    const operations = [{ op: "add", path: 'emails[type eq "home"].value', value: "angelita@mante.us" }];
    expect(rewriteTypedElementUpserts(operations, current)).toEqual([
      { op: "add", path: "emails", value: [{ type: "home", value: "angelita@mante.us" }] },
    ]);
  });

  it("Entra Add phoneNumbers[type eq \"mobile\"].value creates the mobile number when the user has none", () => {
    const operations = [{ op: "Add", path: 'phoneNumbers[type eq "mobile"].value', value: "+47 555 0100" }];
    expect(rewriteTypedElementUpserts(operations, current)).toEqual([
      { op: "add", path: "phoneNumbers", value: [{ type: "mobile", value: "+47 555 0100" }] },
    ]);
  });

  it("Entra Replace addresses[type eq \"work\"].locality creates the work address beside the home one", () => {
    const operations = [{ op: "replace", path: 'addresses[type eq "work"].locality', value: "Bergen" }];
    expect(rewriteTypedElementUpserts(operations, current)).toEqual([
      { op: "add", path: "addresses", value: [{ type: "work", locality: "Bergen" }] },
    ]);
  });

  it("an existing element (type compared case-insensitively) leaves the op unchanged", () => {
    const operations = [
      { op: "replace", path: 'emails[type eq "work"].value', value: "updatedEmail@microsoft.com" },
      { op: "Replace", path: 'emails[type eq "Work"].value', value: "updatedEmail@microsoft.com" },
      { op: "remove", path: 'emails[type eq "other"]' },
      { op: "replace", path: 'emails[type eq "work" and primary eq true].value', value: "x" },
    ];
    expect(rewriteTypedElementUpserts(operations, current)).toEqual(operations);
  });

  it("Entra validator sequence (sourcegraph#49119): later ops on a just-created type are left for PatchOp", () => {
    const operations = [
      { op: "replace", path: 'emails[type eq "work"].value', value: "oren.collins@white.com" },
      { op: "add", path: 'emails[type eq "home"].value', value: "angelita@mante.us" },
      { op: "add", path: 'emails[type eq "other"].value', value: "yasmine_bins@braun.us" },
      { op: "replace", path: 'emails[type eq "work"].display', value: "0TXBC2MOGUI0" },
      { op: "replace", path: 'emails[type eq "home"].display', value: "14UDKFEIO3YS" },
      { op: "replace", path: 'emails[type eq "other"].display', value: "YFQRBLBNUS0R" },
      { op: "add", path: 'emails[type eq "work"].primary', value: false },
      { op: "replace", path: 'emails[type eq "home"].primary', value: true },
    ];
    const expected: unknown[] = [...operations];
    expected[1] = { op: "add", path: "emails", value: [{ type: "home", value: "angelita@mante.us" }] };
    expected[2] = { op: "add", path: "emails", value: [{ type: "other", value: "yasmine_bins@braun.us" }] };
    expect(rewriteTypedElementUpserts(operations, current)).toEqual(expected);
  });

  it("attr[type eq \"x\"] with an object value creates the element with that type", () => {
    const operations = [{ op: "add", path: 'phoneNumbers[type eq "work"]', value: { value: "555-555-5555", type: "other" } }];
    expect(rewriteTypedElementUpserts(operations, { userName: "a" })).toEqual([
      { op: "add", path: "phoneNumbers", value: [{ type: "work", value: "555-555-5555" }] },
    ]);
  });

  it("is pure: neither the operations nor the current resource are modified", () => {
    const operations = [{ op: "add", path: 'emails[type eq "home"].value', value: "h@x" }];
    const before = structuredClone({ operations, current });
    rewriteTypedElementUpserts(operations, current);
    expect({ operations, current }).toEqual(before);
  });
});

describe("filter expressions", () => {
  it("Entra doc Example 1 externalId eq jyoung gets its bare value quoted", () => {
    expect(normaliseFilterExpression("externalId eq jyoung")).toBe('externalId eq "jyoung"');
  });

  it("bare userName sw O is quoted (scim2-parse-filter rejects bare words)", () => {
    expect(normaliseFilterExpression("userName sw O")).toBe('userName sw "O"');
  });

  it("True/False become booleans; true, false, null and numbers stay bare", () => {
    expect(normaliseFilterExpression("active eq True and emails[primary eq FALSE]")).toBe(
      "active eq true and emails[primary eq false]",
    );
    expect(normaliseFilterExpression("active eq false or title eq null or x.count ge 10 or y lt -1.5e3")).toBe(
      "active eq false or title eq null or x.count ge 10 or y lt -1.5e3",
    );
  });

  it("Entra Test Connection, Entra email match and Okta existence check filters are unchanged", () => {
    for (const filter of [
      'userName eq "8b1d8f27-2f6b-4d3f-9e4b-3c1f0d7a6e52"',
      'emails[type eq "work"].value eq "x@contoso.com"',
      'userName eq "test.user@okta.local"',
      'displayName eq "Test SCIMv2"',
    ]) {
      expect(normaliseFilterExpression(filter)).toBe(filter);
    }
  });

  it("quoted values with escaped quotes, spaces, and/or and ] are untouched", () => {
    const filter = 'userName eq "x\\" and y" or (displayName eq "R and D" and not (title pr)) or emails[value co "a]b or"]';
    expect(normaliseFilterExpression(filter)).toBe(filter);
  });

  it("bare values inside value filters and after sub-attributes are quoted, attribute paths and URNs kept", () => {
    expect(
      normaliseFilterExpression(`emails[type eq work].value eq jdoe@x.com and not (${ENTERPRISE}:employeeNumber  ne 0042)`),
    ).toBe(`emails[type eq "work"].value eq "jdoe@x.com" and not (${ENTERPRISE}:employeeNumber  ne "0042")`);
  });
});

describe("RFC 7644 §3.5.2.3 pathless replace", () => {
  it("replaces a multi-valued attribute instead of appending to it (scimmy appends)", () => {
    const emails = [{ value: "new@example.com", primary: true, type: "work" }];
    const sent = patch({ op: "replace", value: { displayName: "New", emails } });
    expect(normalisePatchMessage(sent, "User")).toEqual({
      ...sent, Operations: [{ op: "replace", value: { displayName: "New" } }, { op: "replace", path: "emails", value: emails }],
    });
  });
  it("leaves a pathless replace of single-valued attributes as it is", () => {
    const sent = patch({ op: "replace", value: { active: false } });
    expect(normalisePatchMessage(sent, "User")).toEqual(sent);
  });
});
