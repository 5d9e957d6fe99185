import OML
import OsirisCore

/// OML201: a config key the component does not know.
struct UnknownConfigKey: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML201", name: "UnknownConfigKey", defaultSeverity: .error,
        summary: "unknown config key for the component",
        documentation: """
            Each component accepts the config keys of its spec (osiris-components(7)); any other key is \
            an error, because a misspelt key would otherwise be ignored silently. The finding points at \
            the key and suggests the closest known one.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for (step, spec) in context.configuredSteps {
            for violation in context.schemaViolations(of: step, spec: spec) {
                guard case .unknownKey(let key) = violation.kind else { continue }
                // A secret-named key is reported as a literal secret (OML305) instead.
                if !violation.path.contains("."), SecretNames.contains(key) { continue }
                let known = spec.configSchema.propertyOrder
                let help = closestMatch(to: key, among: known).map { "did you mean '\($0)'?" }
                findings.append(finding(context, at: violation.node.range, "unknown config key '\(violation.path)' for '\(spec.name)'", help: help))
            }
        }
    }
}
