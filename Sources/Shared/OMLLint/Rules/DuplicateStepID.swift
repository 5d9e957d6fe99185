import OsirisCore

/// OML102: two steps have the same id.
struct DuplicateStepID: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML102", name: "DuplicateStepID", defaultSeverity: .error,
        summary: "duplicate step id",
        documentation: """
            Step ids name steps in `needs`, events, run directories and artifacts, so they must be \
            unique. The finding points at the second use and a note at the first.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        var first: [String: OMLStepReference] = [:]
        for step in context.document.steps {
            guard let id = step.id, let node = step.idNode else { continue }
            if let earlier = first[id] {
                findings.append(finding(
                    context, at: node.range, "duplicate step id '\(id)'", help: "rename one of the steps",
                    notes: [Diagnostic.Note("'\(id)' first used here", range: earlier.range)]))
            } else {
                first[id] = OMLStepReference(range: node.range)
            }
        }
    }

    private struct OMLStepReference { let range: SourceRange }
}
