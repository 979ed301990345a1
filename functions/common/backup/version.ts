/** Caretaker's version, recorded in every manifest (kept equal to package.json's by a unit test). */
export const TOOL_VERSION = '0.1.0';
