import OML
import OsirisCore

/// OML203: a config value of the wrong type, outside its enum or bounds.
struct InvalidConfigValue: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML203", name: "InvalidConfigValue", defaultSeverity: .error,
        summary: "config value of the wrong type, outside its enum or bounds",
        documentation: """
            The value does not fit the component's schema: the wrong type (a string where an integer is \
            expected), not one of the allowed values, a number outside its bounds, a string of the wrong \
            length or not matching its pattern. A string that is exactly one `${params.NAME}` reference \
            is checked as the param's value. `config` itself must be a mapping.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for step in context.document.steps {
            guard context.specs[step.index] != nil, let config = step.config, config.mapping == nil,
                  config.scalar?.value != .null
            else { continue }
            findings.append(finding(context, at: config.range, "config must be a mapping, not \(withArticle(config.kindName))"))
        }
        for (step, spec) in context.configuredSteps {
            for violation in context.schemaViolations(of: step, spec: spec) {
                let key = "'\(violation.path)'"
                var help: String?
                let message: String
                switch violation.kind {
                case .wrongType(let expected, let found):
                    if let text = violation.node.string, let param = ParamReference.whole(text) {
                        message = "config \(key) must be \(withArticle(expected)), but param '\(param)' is \(withArticle(found))"
                    } else {
                        message = "config \(key) must be \(withArticle(expected)), not \(withArticle(found))"
                    }
                case .notAllowed(let allowed):
                    let names = allowed.map { $0.stringValue ?? JSONWriter.canonicalString($0) }
                    let shown = violation.node.scalar?.text ?? violation.node.kindName
                    message = "config \(key) must be one of \(quotedList(names)), not '\(shown)'"
                    if let text = violation.node.scalar?.text, let near = closestMatch(to: text, among: names) {
                        help = "did you mean '\(near)'?"
                    }
                case .outOfBounds(let minimum, let maximum):
                    message = "config \(key) must be \(bounds(minimum.map(number), maximum.map(number)))"
                case .badLength(let minimum, let maximum, let isList):
                    let unit = isList ? "items" : "characters"
                    message = "config \(key) must have \(bounds(minimum.map(String.init), maximum.map(String.init))) \(unit)"
                case .patternMismatch(let pattern):
                    message = "config \(key) does not match the pattern '\(pattern)'"
                default:
                    continue
                }
                findings.append(finding(context, at: violation.node.range, message, help: help))
            }
        }
    }

    private static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    private static func bounds(_ minimum: String?, _ maximum: String?) -> String {
        switch (minimum, maximum) {
        case let (low?, high?): "between \(low) and \(high)"
        case let (low?, nil): "at least \(low)"
        case let (nil, high?): "at most \(high)"
        default: "within bounds"
        }
    }
}
