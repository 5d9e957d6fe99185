import OML
import OsirisCore

/// OML400: a table that is not in the discovery snapshot.
struct UnknownTable: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML400", name: "UnknownTable", defaultSeverity: .error,
        summary: "table not in the snapshot (needs --snapshot)",
        documentation: """
            With `--snapshot FILE` (from osiris-discover), every table an extractor reads must exist in \
            the snapshot: its `table`, and every table after FROM or JOIN in its `query` (names defined \
            by WITH are not tables). Checked only for extractors whose connection, named or default, is \
            the snapshot's connection. Unquoted names match regardless of case. This catches tables a \
            language model made up.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for (step, spec) in context.configuredSteps {
            guard let snapshot = context.groundingSnapshot(for: step, spec: spec) else { continue }
            let known = snapshot.tables.map(\.name)
            func report(_ name: String, schema: String?, at range: SourceRange, notes: [Diagnostic.Note] = []) {
                let shown = schema.map { "\($0).\(name)" } ?? name
                let help = closestMatch(to: name, among: known).map { "did you mean '\($0)'?" }
                findings.append(finding(
                    context, at: range, "table '\(shown)' is not in the snapshot of \(snapshot.connection)", help: help, notes: notes))
            }
            if let table = context.configuredTable(of: step),
               let matches = context.snapshotTables(snapshot, schema: table.schema, name: table.name, quoted: false), matches.isEmpty {
                report(table.name, schema: table.schema, at: table.node.range)
            }
            if let node = step.config?["query"], let sql = node.string {
                for reference in SQLAnalysis.tableReferences(sql) {
                    guard let matches = context.snapshotTables(
                        snapshot, schema: reference.schema, name: reference.name, quoted: reference.isQuoted), matches.isEmpty
                    else { continue }
                    let location = context.location(
                        in: node, offset: reference.offset, length: reference.length, what: "'\(reference.name)'")
                    report(reference.name, schema: reference.schema, at: location.range, notes: location.notes)
                }
            }
        }
    }
}
