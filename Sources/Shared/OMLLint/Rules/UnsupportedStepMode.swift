import OsirisCore

/// OML107: the component does not support the step's mode.
struct UnsupportedStepMode: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML107", name: "UnsupportedStepMode", defaultSeverity: .error,
        summary: "mode not supported by the component",
        documentation: """
            Each component supports the modes its spec lists: extractors read, writers write, \
            processors transform. The step's role comes from its component, not from its mode.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for step in context.document.steps {
            guard let mode = step.mode, let node = step.modeNode, InvalidStepMode.modes.contains(mode),
                  let spec = context.specs[step.index], !spec.stepModes.contains(mode)
            else { continue }
            let supported = spec.stepModes
            findings.append(finding(
                context, at: node.range, "component '\(spec.name)' does not support mode '\(mode)'",
                help: supported.count == 1 ? "use 'mode: \(supported[0])'" : "use one of \(quotedList(supported))"))
        }
    }
}
