import OML
import OsirisCore

/// OML308: a param declaration, default or profile value of the wrong type or outside its enum.
struct InvalidParamValue: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML308", name: "InvalidParamValue", defaultSeverity: .error,
        summary: "param default or override of the wrong type or outside its enum",
        documentation: """
            A param declares a `type` (string, int, number or bool), a `default`, and optionally an \
            `enum` of allowed values; a bare scalar is a default of its own type. Defaults and profile \
            values must have the declared type and be in the enum. `params` and each profile's `params` \
            must be mappings. The finding points at the offending value.
            """)

    static let declarationKeys = ["type", "default", "enum", "description"]

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        let document = context.document
        if let params = document.entry("params")?.value, params.mapping == nil, params.scalar?.value != .null {
            findings.append(finding(context, at: params.range, "params must be a mapping of param names to declarations"))
        }
        for param in document.params {
            if param.node.sequence != nil {
                findings.append(finding(context, at: param.node.range, "param '\(param.name)' must be a mapping or a scalar default"))
                continue
            }
            for pair in param.node.mapping ?? [] where !declarationKeys.contains(pair.key.keyText) {
                let help = closestMatch(to: pair.key.keyText, among: declarationKeys).map { "did you mean '\($0)'?" }
                findings.append(finding(context, at: pair.key.range, "unknown key '\(pair.key.keyText)' in param '\(param.name)'", help: help))
            }
            if let typeNode = param.typeNode, param.type == nil {
                let shown = typeNode.scalar?.text ?? typeNode.kindName
                let names = ParamType.allCases.map(\.rawValue)
                let help = closestMatch(to: shown, among: names).map { "did you mean '\($0)'?" } ?? "use one of \(quotedList(names))"
                findings.append(finding(context, at: typeNode.range, "param '\(param.name)' has unknown type '\(shown)'", help: help))
                continue
            }
            if let enumNode = param.enumNode, enumNode.sequence == nil {
                findings.append(finding(context, at: enumNode.range, "enum of param '\(param.name)' must be a list"))
                continue
            }
            if let defaultNode = param.defaultNode, let value = param.defaultValue, let problem = param.problem(with: value) {
                findings.append(finding(context, at: defaultNode.range, problem))
            }
        }
        if let profiles = document.entry("profiles")?.value, profiles.mapping == nil, profiles.scalar?.value != .null {
            findings.append(finding(context, at: profiles.range, "profiles must be a mapping of profile names to {params: ...}"))
        }
        for profile in document.profiles {
            if profile.node.mapping == nil || (profile.node["params"] != nil && profile.node["params"]?.mapping == nil) {
                findings.append(finding(
                    context, at: profile.node["params"]?.range ?? profile.node.range,
                    "profile '\(profile.name)' must be a mapping with 'params: {NAME: VALUE}'"))
                continue
            }
            for pair in profile.values {
                guard let param = document.param(named: pair.key.keyText) else { continue }
                let value = pair.value.jsonValue
                if let problem = param.problem(with: value) {
                    findings.append(finding(context, at: pair.value.range, "in profile '\(profile.name)': \(problem)"))
                }
            }
        }
    }
}
