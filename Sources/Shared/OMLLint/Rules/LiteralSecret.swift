import OML
import OsirisCore
import OsirisYAML

/// OML305: a secret written into the OML.
struct LiteralSecret: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML305", name: "LiteralSecret", defaultSeverity: .error,
        summary: "literal secret in OML",
        documentation: """
            Secrets never appear in OML: OML files are committed, reviewed and written by language \
            models. Any value under a secret-named config key (password, passwd, pwd, token, api_key, \
            secret, key, dsn, connection_string, ... and every field the component's spec marks secret) \
            is an error, `${ENV_VAR}` references included. Put the secret in osiris_connections.yaml \
            as `password: ${SHOP_PG_PASSWORD}` and reference the connection.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for (step, spec) in context.configuredSteps {
            guard let config = step.config, config.mapping != nil else { continue }
            var stack: [(node: YAMLNode, topLevel: Bool)] = [(config, true)]
            while let (node, topLevel) = stack.popLast() {
                if let items = node.sequence { stack.append(contentsOf: items.map { ($0, false) }) }
                for pair in node.mapping ?? [] {
                    let key = pair.key.keyText
                    if SecretNames.contains(key) || (topLevel && spec.secretKeys.contains(key)) {
                        if hasValue(pair.value) {
                            findings.append(finding(
                                context, at: pair.value.range, "config '\(key)' holds a secret; secrets never appear in OML",
                                help: "move it to the connection in osiris_connections.yaml as '\(key): ${ENV_VAR}'"))
                        }
                    } else {
                        stack.append((pair.value, false))
                    }
                }
            }
        }
    }

    private static func hasValue(_ node: YAMLNode) -> Bool {
        guard let scalar = node.scalar else { return true }
        switch scalar.value {
        case .null: return false
        case .string(let text): return !text.isEmpty
        default: return true
        }
    }
}
