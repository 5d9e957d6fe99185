import OML
import OsirisCore

/// OML401: a column that is not in its table in the discovery snapshot.
struct UnknownColumn: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML401", name: "UnknownColumn", defaultSeverity: .error,
        summary: "column not in its table in the snapshot (needs --snapshot)",
        documentation: """
            With `--snapshot FILE`, the columns an extractor names must exist in its table: the entries \
            of `columns`, and the select list of a single-table query made of plain column names \
            (`SELECT id, total FROM orders`; functions, expressions and `*` are not checked). Checked \
            only where OML400 checks tables, and only for tables the snapshot has.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for (step, spec) in context.configuredSteps {
            guard let snapshot = context.groundingSnapshot(for: step, spec: spec) else { continue }
            func report(_ column: String, table: SnapshotTable, at range: SourceRange, notes: [Diagnostic.Note] = []) {
                let help = closestMatch(to: column, among: table.columns.map(\.name)).map { "did you mean '\($0)'?" }
                    ?? "columns of '\(table.name)': \(table.columns.map(\.name).joined(separator: ", "))"
                findings.append(finding(context, at: range, "column '\(column)' is not in table '\(table.name)'", help: help, notes: notes))
            }
            if let configured = context.configuredTable(of: step),
               let tables = context.snapshotTables(snapshot, schema: configured.schema, name: configured.name, quoted: false),
               tables.count == 1, let columns = step.config?["columns"]?.sequence {
                for item in columns {
                    guard let name = item.string, !name.containsBytes("${"),
                          tables[0].column(named: name, caseSensitive: false) == nil
                    else { continue }
                    report(name, table: tables[0], at: item.range)
                }
            }
            if let node = step.config?["query"], let sql = node.string, let select = SQLAnalysis.singleTableSelect(sql),
               let tables = context.snapshotTables(
                   snapshot, schema: select.table.schema, name: select.table.name, quoted: select.table.isQuoted),
               tables.count == 1 {
                for column in select.columns where tables[0].column(named: column.name, caseSensitive: column.isQuoted) == nil {
                    let location = context.location(in: node, offset: column.offset, length: column.length, what: "'\(column.name)'")
                    report(column.name, table: tables[0], at: location.range, notes: location.notes)
                }
            }
        }
    }
}
