import OML
import OsirisCore

/// OML108: a step key OML does not define.
struct UnknownStepKey: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML108", name: "UnknownStepKey", defaultSeverity: .warning,
        summary: "unknown step key",
        documentation: """
            A step may have id, component, mode, needs, config, retry and description. Other keys are \
            ignored (a warning, as the document may come from a newer tool). Component settings go \
            under `config`.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for step in context.document.steps {
            for pair in step.node.mapping ?? [] {
                let key = pair.key.keyText
                guard !OMLDocument.stepKeys.contains(key) else { continue }
                var help = closestMatch(to: key, among: OMLDocument.stepKeys).map { "did you mean '\($0)'?" }
                if help == nil, let spec = context.specs[step.index], spec.configSchema.properties[key] != nil {
                    help = "'\(key)' is a config key of '\(spec.name)': move it under 'config'"
                }
                findings.append(finding(context, at: pair.key.range, "unknown step key '\(key)'", help: help))
            }
        }
    }
}
