import OsirisCore

/// OML205: an upsert writer without a primary key.
struct UpsertWithoutPrimaryKey: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML205", name: "UpsertWithoutPrimaryKey", defaultSeverity: .error,
        summary: "upsert without primary_key",
        documentation: """
            `write_mode: upsert` inserts new rows and updates existing ones, matched on the key columns \
            named in `primary_key` (`upsert_keys` for mysql.writer in OML of the original tool). Without \
            them there is nothing to match on. The finding points at the `write_mode` value.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for (step, spec) in context.configuredSteps where spec.role == .writer {
            guard let pairs = step.config?.mapping else { continue }
            func names(for canonical: String) -> Set<String> {
                Set([canonical] + spec.aliases.filter { $0.value == canonical }.map(\.key))
            }
            let modeNames = names(for: "write_mode")
            let keyNames = names(for: "primary_key")
            guard let modePair = pairs.first(where: { modeNames.contains($0.key.keyText) }) else { continue }
            var mode = modePair.value.string
            if let text = mode, let resolved = context.paramValue(forWholeReference: text)?.stringValue { mode = resolved }
            guard mode == "upsert" else { continue }
            let keyPair = pairs.first { keyNames.contains($0.key.keyText) }
            let hasKey: Bool
            switch keyPair?.value.jsonValue {
            case .string(let text)?: hasKey = !text.isEmpty
            case .array(let items)?: hasKey = !items.isEmpty
            default: hasKey = false
            }
            guard !hasKey else { continue }
            findings.append(finding(
                context, at: modePair.value.range, "upsert in step \(step.displayName) needs 'primary_key'",
                help: "add 'primary_key: [id]' naming the key columns"))
        }
    }
}
