import OsirisCore

/// OML204: config keys that exclude each other are given together.
struct ConflictingConfigKeys: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML204", name: "ConflictingConfigKeys", defaultSeverity: .error,
        summary: "conflicting config keys (for example query and table together)",
        documentation: """
            Some config keys exclude each other: an extractor reads either a `query` or a `table`, and a \
            legacy key cannot be given together with the key it stands for (`mode` and `write_mode`, \
            `upsert_keys` and `primary_key`). The finding points at the second of the two keys.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for (step, spec) in context.configuredSteps {
            for violation in context.schemaViolations(of: step, spec: spec) {
                guard case .conflicting(let first, let second) = violation.kind else { continue }
                findings.append(finding(
                    context, at: violation.node.range, "config keys '\(first)' and '\(second)' cannot be used together",
                    help: "keep one of them"))
            }
            guard let config = step.config, let pairs = config.mapping else { continue }
            for (legacy, canonical) in spec.aliases.sorted(by: { $0.key < $1.key }) {
                guard let legacyPair = pairs.first(where: { $0.key.keyText == legacy }),
                      let canonicalPair = pairs.first(where: { $0.key.keyText == canonical })
                else { continue }
                let second = legacyPair.key.range.start < canonicalPair.key.range.start ? canonicalPair : legacyPair
                findings.append(finding(
                    context, at: second.key.range, "config keys '\(legacy)' and '\(canonical)' mean the same; give only one",
                    help: "keep '\(canonical)'"))
            }
        }
    }
}
