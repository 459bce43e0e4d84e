// Validate FHIR R4 JSON files with FHIR.js (npm `fhir`, installed by `make fhir-validator-deps`).
// Usage: node fhir_validate.js <dir holding node_modules/fhir> <file.json>...
// Prints a JSON array: one {file, messages: [{location, severity, message}]} per file.
const path = require('path');
const fs = require('fs');
const { Fhir } = require(path.resolve(process.argv[2], 'node_modules', 'fhir'));
const fhir = new Fhir();
const out = [];
for (const file of process.argv.slice(3)) {
  const resource = JSON.parse(fs.readFileSync(file, 'utf8'));
  out.push({ file, messages: fhir.validate(resource, {}).messages });
}
process.stdout.write(JSON.stringify(out));
