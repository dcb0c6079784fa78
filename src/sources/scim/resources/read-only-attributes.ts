// RFC 7643 §2.2: a readOnly attribute "SHALL NOT be modified" by a client, and RFC 7644 §3.5.1 lets a
// service provider ignore one in a request. scimmy skips the server-set ones (id, meta, groups) on input
// but stores the rest as sent (the enterprise manager's displayName); this drops every readOnly attribute
// and sub-attribute /Schemas declares from a validated document, driven by the definitions themselves.
import { SCIMMY } from "scimmy-routers";

type Json = Record<string, unknown>;
interface AttributeShape { name: string; config: { mutable: unknown; shadow: boolean }; subAttributes?: AttributeShape[] }
interface DefinitionShape { id: string; attributes: Array<AttributeShape | DefinitionShape> }

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const isDefinition = (entry: object): entry is DefinitionShape => entry instanceof SCIMMY.Types.SchemaDefinition;
const readOnly = (attribute: AttributeShape) => attribute.config.mutable === false || attribute.config.mutable === "readOnly";

function dropFromObject(object: Json, attributes: readonly AttributeShape[]): Json {
  const out: Json = { ...object };
  for (const attribute of attributes) {
    if (attribute.config.shadow || !(attribute.name in out)) continue;
    if (readOnly(attribute)) delete out[attribute.name];
    else if (attribute.subAttributes?.some((sub) => readOnly(sub))) {
      const value = out[attribute.name];
      const subs = attribute.subAttributes;
      out[attribute.name] = Array.isArray(value) ? value.map((element) => (isObject(element) ? dropFromObject(element, subs) : element))
        : isObject(value) ? dropFromObject(value, subs) : value;
    }
  }
  return out;
}

/** `document` (keys as scimmy's coercion names them) without the readOnly attributes of `definition` and its extensions. */
export function withoutReadOnlyAttributes(document: Json, definition: object): Json {
  const { attributes } = definition as DefinitionShape;
  let out = dropFromObject(document, attributes.filter((a): a is AttributeShape => !isDefinition(a)));
  for (const extension of attributes.filter(isDefinition)) {
    const value = out[extension.id];
    if (isObject(value)) out = { ...out, [extension.id]: withoutReadOnlyAttributes(value, extension) };
  }
  return out;
}
