import OML
import OsirisCore

/// OML300: a connection reference that is not `@family.alias`.
struct MalformedConnectionReference: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML300", name: "MalformedConnectionReference", defaultSeverity: .error,
        summary: "malformed connection reference",
        documentation: """
            `connection` names a connection of osiris_connections.yaml as `"@family.alias"`, for example \
            `"@pg.shop"` or `"@mysql.db_movies"`: an '@', the family, a dot, the alias; names are \
            letters, digits, '_' and '-'. Quote it: YAML reads a leading '@' as reserved.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for (step, spec) in context.configuredSteps {
            guard spec.configSchema.properties["connection"] != nil, let node = step.config?["connection"] else { continue }
            guard let text = node.string else {
                findings.append(finding(context, at: node.range, "connection must be a string like '@pg.shop', not \(withArticle(node.kindName))"))
                continue
            }
            guard context.connectionReference(of: step) == nil else { continue }
            if ParamReference.whole(text) != nil, context.paramValue(forWholeReference: text) == nil { continue }
            var help = "write it as '@family.alias', such as '@pg.shop'"
            let body = text.hasPrefix("@") ? String(text.dropFirst()) : text
            if let guess = guessReference(body) {
                help = "did you mean '\(guess)'?"
            } else if !text.hasPrefix("@"), ConnectionReference(parsing: "@" + text) != nil {
                help = "did you mean '@\(text)'?"
            }
            findings.append(finding(context, at: node.range, "malformed connection reference '\(text)'", help: help))
        }
    }

    /// `pgshop` -> `@pg.shop`: a known family spelling followed by the alias without the dot.
    private static func guessReference(_ body: String) -> String? {
        guard !body.contains(".") else { return nil }
        let spellings = ConnectionFamily.spellings.keys.sorted { ($0.count, $0) > ($1.count, $1) }
        for family in spellings where body.lowercased().hasPrefix(family) && body.count > family.count {
            var alias = body.dropFirst(family.count)
            if alias.first == "_" || alias.first == "-" { alias = alias.dropFirst() }
            if let reference = ConnectionReference(parsing: "@\(family).\(alias)") { return reference.description }
        }
        return nil
    }
}
