import OsirisCore

/// OML110: a writer or processor without needs reads the previous step.
struct ImplicitStepInput: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML110", name: "ImplicitStepInput", defaultSeverity: .warning,
        summary: "implicit input: no needs, reads the previous step",
        documentation: """
            In the linear form of OML v0.1.0 a writer or processor without `needs` reads the nearest \
            earlier step that produces data. This works, but reordering steps silently changes the data \
            flow; name the input in `needs` instead. Silence it with \
            `# oml-lint: disable=OML110 reason` where the linear form is intended.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for step in context.document.steps where context.graph.sources[step.index] == .implicit {
            guard let input = context.graph.inputs[step.index].first else { continue }
            let inputStep = context.document.steps[input]
            let name = inputStep.id ?? "#\(input + 1)"
            findings.append(finding(
                context, at: step.anchorNode.range, "step \(step.displayName) has no 'needs' and reads the previous step '\(name)'",
                help: "add 'needs: [\(name)]'"))
        }
    }
}
