import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';
import ts from 'typescript';

// openapi-typescript drives the TypeScript 5 compiler API, which the project's TypeScript 7 does
// not have: this workspace package holds both, and this module is the only one importing them.

// `JsonValue` contains arrays of itself. Written as the member `components["schemas"]["JsonValue"]`
// that refers to itself, TypeScript refuses it as circular; as a type alias it is fine.
const JSON_VALUE_REF = '#/components/schemas/JsonValue';
const JSON_VALUE_ALIAS =
  'type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };\n';

/** The TypeScript types (`paths`, `components`, …) that openapi-typescript generates for `document`. */
export async function generateTypes(document: object, header: string): Promise<string> {
  const nodes = await openapiTS(document as OpenAPI3, {
    silent: true,
    inject: JSON_VALUE_ALIAS,
    transform: (_schema, options) =>
      options.path === JSON_VALUE_REF ? ts.factory.createTypeReferenceNode('JsonValue') : undefined,
  });
  return `${COMMENT_HEADER}${header}${astToString(nodes)}`;
}
