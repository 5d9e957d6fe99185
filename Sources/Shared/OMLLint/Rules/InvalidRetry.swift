import OsirisCore
import OsirisYAML

/// OML112: retry is not `{attempts: int >= 1, backoff_ms: int >= 0}`.
struct InvalidRetry: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML112", name: "InvalidRetry", defaultSeverity: .error,
        summary: "retry not {attempts: integer >= 1, backoff_ms: integer >= 0}",
        documentation: """
            `retry` (this toolchain's extension) sets how often a step is retried after a retryable \
            error and how long the first wait is: `retry: {attempts: 3, backoff_ms: 500}`. attempts \
            counts every try, so 1 means no retry; waits double each time, with jitter.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for step in context.document.steps {
            guard let value = step.retryPair?.value else { continue }
            guard let pairs = value.mapping else {
                findings.append(finding(context, at: value.range, "retry must be a mapping with 'attempts' and 'backoff_ms'"))
                continue
            }
            for pair in pairs {
                let key = pair.key.keyText
                switch key {
                case "attempts": check(pair.value, minimum: 1, name: key, context, &findings)
                case "backoff_ms": check(pair.value, minimum: 0, name: key, context, &findings)
                default:
                    let help = closestMatch(to: key, among: ["attempts", "backoff_ms"]).map { "did you mean '\($0)'?" }
                    findings.append(finding(context, at: pair.key.range, "unknown retry key '\(key)'", help: help))
                }
            }
        }
    }

    private static func check(_ node: YAMLNode, minimum: Int, name: String, _ context: LintContext, _ findings: inout [Diagnostic]) {
        var value = node.jsonValue
        if let text = value.stringValue, let resolved = context.paramValue(forWholeReference: text) { value = resolved }
        guard case .int(let number) = value else {
            findings.append(finding(context, at: node.range, "retry '\(name)' must be an integer, not a \(value.typeName)"))
            return
        }
        if number < minimum {
            findings.append(finding(context, at: node.range, "retry '\(name)' must be at least \(minimum)"))
        }
    }
}
