/** The reference targets and where record.ts starts them (away from the integration tests' ports). */
export const REFERENCE_TARGETS = [
  { name: "prosody", kind: "prosody", variant: "full", basePort: 28200 },
  { name: "ejabberd", kind: "ejabberd", variant: "full", basePort: 28300 },
  { name: "prosody-minimal", kind: "prosody", variant: "minimal", basePort: 28400 },
  { name: "prosody-liar", kind: "prosody", variant: "liar", basePort: 28500 },
] as const;
