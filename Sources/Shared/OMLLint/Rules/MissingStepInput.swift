import OsirisCore

/// OML109: a writer or processor has no input.
struct MissingStepInput: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML109", name: "MissingStepInput", defaultSeverity: .error,
        summary: "writer or processor without any input",
        documentation: """
            Writers write their input and processors transform their inputs, so each needs at least one \
            upstream step: listed in `needs`, or, without `needs`, an earlier step that produces data \
            (extractor or processor). The finding points at the step's id.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for step in context.document.steps {
            guard let role = context.role(of: step), role != .extractor, context.graph.inputs[step.index].isEmpty else { continue }
            // Unknown ids in needs are OML104's finding, not a missing input.
            if let needs = step.needs, !needs.isEmpty { continue }
            let kind = role == .writer ? "writer" : "processor"
            findings.append(finding(
                context, at: step.anchorNode.range, "\(kind) step \(step.displayName) has no input",
                help: "add 'needs:' with the step whose output it reads"))
        }
    }
}
