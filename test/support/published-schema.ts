// An attribute as idsync's /Schemas publishes it (RFC 7643 §7), for the tests that are driven by it.
export interface AttributeDef {
  name: string;
  type: string;
  multiValued: boolean;
  required: boolean;
  mutability: string;
  returned: string;
  uniqueness?: string;
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDef[];
}
