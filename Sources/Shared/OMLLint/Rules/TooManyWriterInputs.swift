import OsirisCore

/// OML111: a writer has more than one input.
struct TooManyWriterInputs: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML111", name: "TooManyWriterInputs", defaultSeverity: .error,
        summary: "writer with more than one input",
        documentation: """
            A writer writes exactly one input. To combine several, add a processor (for example \
            sqlite.processor with a JOIN or UNION ALL) and let the writer need it. The finding points \
            at the `needs` key.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for step in context.document.steps {
            guard context.role(of: step) == .writer, let pair = step.needsPair, let needs = step.needs else { continue }
            let names = Set(needs.map(\.name))
            guard names.count > 1 else { continue }
            findings.append(finding(
                context, at: pair.key.range, "writer step \(step.displayName) needs \(names.count) steps; a writer takes one input",
                help: "combine the inputs in a processor step and need that"))
        }
    }
}
