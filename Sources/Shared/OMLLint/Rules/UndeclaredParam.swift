import OML
import OsirisCore

/// OML307: a reference to a param the document does not declare.
struct UndeclaredParam: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML307", name: "UndeclaredParam", defaultSeverity: .error,
        summary: "reference to an undeclared param",
        documentation: """
            `${params.NAME}` may appear in any string of a step, and a profile may set params, but only \
            params declared under `params:` exist. The finding points at the reference, or at the \
            profile's key.

            Example:
                params:
                  since: {type: string, default: "2024-01-01"}
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        let declared = context.document.params.map(\.name)
        let declaredSet = Set(declared)
        for step in context.document.steps {
            for node in context.strings(under: step.node) {
                guard let text = node.string else { continue }
                for reference in ParamReference.all(in: text) where !declaredSet.contains(reference.name) {
                    let help = closestMatch(to: reference.name, among: declared).map { "did you mean '\($0)'?" }
                        ?? "declare it under 'params:'"
                    let location = context.location(
                        in: node, offset: reference.offset, length: reference.length, what: "'${params.\(reference.name)}'")
                    findings.append(finding(
                        context, at: location.range, "param '\(reference.name)' is not declared", help: help, notes: location.notes))
                }
            }
        }
        for profile in context.document.profiles {
            for pair in profile.values where !declaredSet.contains(pair.key.keyText) {
                let name = pair.key.keyText
                let help = closestMatch(to: name, among: declared).map { "did you mean '\($0)'?" } ?? "declare it under 'params:'"
                findings.append(finding(
                    context, at: pair.key.range, "profile '\(profile.name)' sets undeclared param '\(name)'", help: help))
            }
        }
    }
}
