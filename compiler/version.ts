// The version printed in generated files. Kept in code (not read from package.json at run
// time) so that output never depends on where the package is installed.
export const VERSION = '0.1.0';
