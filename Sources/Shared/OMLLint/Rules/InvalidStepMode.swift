import OsirisCore

/// OML106: mode is not read, write or transform.
struct InvalidStepMode: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML106", name: "InvalidStepMode", defaultSeverity: .error,
        summary: "mode not one of read, write, transform",
        documentation: """
            A step's `mode` is `read` (extractors), `write` (writers) or `transform` (processors).
            """)

    static let modes = ["read", "write", "transform"]

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for step in context.document.steps {
            guard let mode = step.mode, let node = step.modeNode, !modes.contains(mode) else { continue }
            var help = closestMatch(to: mode, among: modes).map { "did you mean '\($0)'?" }
            if let role = context.role(of: step) { help = "'\(step.component ?? "")' uses 'mode: \(role.stepMode)'" }
            findings.append(finding(context, at: node.range, "mode '\(mode)' is not read, write or transform", help: help))
        }
    }
}
