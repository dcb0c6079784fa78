// Reads attribute facts (type, caseExact, multiValued) from scimmy's schema definitions.
import type { AttributeFacts, AttributePath, AttributeType } from "./resource-sql-shape.ts";

interface ScimmyAttribute {
  name: string;
  type: string;
  config: { caseExact?: boolean; multiValued?: boolean };
  subAttributes?: ScimmyAttribute[];
}
interface ScimmyDefinition { attribute(path: string): ScimmyAttribute }

function toFacts(attribute: ScimmyAttribute): AttributeFacts {
  return {
    name: attribute.name,
    type: attribute.type as AttributeType,
    caseExact: attribute.config.caseExact === true,
    multiValued: attribute.config.multiValued === true,
    subAttributes: (attribute.subAttributes ?? []).map(toFacts),
  };
}

/** Looks an attribute path up in a schema definition; throws when the schema does not declare it. */
export function factsFromDefinition(definition: () => unknown) {
  return (path: AttributePath): { top: AttributeFacts; leaf: AttributeFacts } => {
    const schema = definition() as ScimmyDefinition;
    const prefix = path.urn ? `${path.urn}:` : "";
    const top = toFacts(schema.attribute(`${prefix}${path.attribute}`));
    const leaf = path.subAttribute ? toFacts(schema.attribute(`${prefix}${path.attribute}.${path.subAttribute}`)) : top;
    return { top, leaf };
  };
}
