import OML
import OsirisCore

/// OML301: the connections file has no such family or alias, or no default.
struct UnknownConnection: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML301", name: "UnknownConnection", defaultSeverity: .error,
        summary: "unknown connection family or alias, or no default (needs a connections file)",
        documentation: """
            The referenced family or alias is not in the connections file, or the step names no \
            connection and its family has no default (an alias marked `default: true`, or one named \
            `default`). Checked only for well-formed references and only when a connections file is \
            found: `--connections FILE`, $OSIRIS_CONNECTIONS, ./osiris_connections.yaml or \
            $XDG_CONFIG_HOME/osiris/connections.yaml. Filesystem components need no connection, and \
            SQLite components need none when their config has `path`.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        guard let connections = context.connections else { return }
        for (step, spec) in context.configuredSteps {
            guard let family = spec.family, spec.configSchema.properties["connection"] != nil else { continue }
            if let node = step.config?["connection"] {
                guard let reference = context.connectionReference(of: step) else { continue }
                // A reference of another family is OML302's finding.
                if ConnectionFamily.canonical(reference.family) != nil,
                   !ConnectionFamily.serves(connection: reference.family, component: family) { continue }
                switch connections.lookup(reference) {
                case .found: break
                case .unknownFamily(let name, let known):
                    findings.append(finding(
                        context, at: node.range, "unknown connection family '\(name)' in \(connections.path)",
                        help: known.isEmpty ? "the file defines no connections" : "families defined: \(known.joined(separator: ", "))"))
                case .unknownAlias(let name, let alias, let known):
                    let help = closestMatch(to: alias, among: known).map { "did you mean '@\(name).\($0)'?" }
                        ?? "aliases of '\(name)': \(known.joined(separator: ", "))"
                    findings.append(finding(context, at: node.range, "unknown connection '@\(name).\(alias)' in \(connections.path)", help: help))
                case .noDefault:
                    break
                }
            } else {
                if family == "filesystem" { continue }
                if family == "sqlite", step.config?["path"] != nil { continue }
                guard case .noDefault(_, let known) = connections.defaultConnection(forFamily: family) else { continue }
                let help = known.isEmpty
                    ? "add a '\(family)' connection to \(connections.path) or set 'path' in config"
                    : "name one, such as 'connection: \"@\(family).\(known[0])\"', or mark one 'default: true'"
                findings.append(finding(
                    context, at: step.anchorNode.range,
                    "step \(step.displayName) names no connection and '\(family)' has no default in \(connections.path)", help: help))
            }
        }
    }
}
