import OML
import OsirisCore

/// OML302: the connection's family does not fit the component.
struct ConnectionFamilyMismatch: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML302", name: "ConnectionFamilyMismatch", defaultSeverity: .error,
        summary: "connection family does not match the component",
        documentation: """
            A component talks to one kind of database: postgres.* needs a PostgreSQL connection \
            (family pg, postgres, postgresql or supabase), mysql.* a MySQL or MariaDB one (mysql, \
            mariadb), sqlite.* a sqlite one. The finding points at the reference.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for (step, spec) in context.configuredSteps {
            guard let family = spec.family, let node = step.config?["connection"],
                  let reference = context.connectionReference(of: step),
                  ConnectionFamily.canonical(reference.family) != nil,
                  !ConnectionFamily.serves(connection: reference.family, component: family)
            else { continue }
            findings.append(finding(
                context, at: node.range,
                "connection '\(reference)' is a \(ConnectionFamily.canonical(reference.family)!) connection, but '\(spec.name)' needs \(family)",
                help: "use a '\(family)' connection or a \(ConnectionFamily.canonical(reference.family)!) component"))
        }
    }
}
