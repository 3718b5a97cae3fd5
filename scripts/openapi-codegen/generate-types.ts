import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';

// openapi-typescript drives the TypeScript 5 compiler API, which the project's TypeScript 7 does
// not have: this workspace package holds both, and this module is the only one importing them.

/** The TypeScript types (`paths`, `components`, …) that openapi-typescript generates for `document`. */
export async function generateTypes(document: object, header: string): Promise<string> {
  const nodes = await openapiTS(document as OpenAPI3, {
    // Absent optional fields are `?:`, never `| undefined`: the site reads answers, it does not build them.
    alphabetize: false,
    silent: true,
  });
  return `${COMMENT_HEADER}${header}${astToString(nodes)}`;
}
