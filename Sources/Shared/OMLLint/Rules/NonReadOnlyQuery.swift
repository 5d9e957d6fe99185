import OML
import OsirisCore

/// OML306: extractor SQL that is not a single read-only statement.
struct NonReadOnlyQuery: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML306", name: "NonReadOnlyQuery", defaultSeverity: .error,
        summary: "extractor SQL that is not a single read-only statement",
        documentation: """
            An extractor's `query` must be one statement that only reads: SELECT, WITH ... SELECT, \
            VALUES, TABLE, SHOW or EXPLAIN, without data-changing clauses (INSERT, UPDATE, DELETE, \
            SELECT ... INTO, FOR UPDATE, DDL, ...). Extractors run inside read-only transactions, but \
            the pipeline should say what it does: writes belong in writer steps. A trailing ';' and \
            comments are fine. The finding points at the offending keyword where it can.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for (step, spec) in context.configuredSteps where spec.role == .extractor {
            guard let node = step.config?["query"], let sql = node.string, let problem = SQLAnalysis.readOnlyProblem(sql) else { continue }
            func at(_ offset: Int, _ length: Int, _ what: String) -> (SourceRange, [Diagnostic.Note]) {
                let location = context.location(in: node, offset: offset, length: length, what: what)
                return (location.range, location.notes)
            }
            switch problem {
            case .empty:
                findings.append(finding(context, at: node.range, "query has no SQL statement"))
            case .multipleStatements(let offset):
                let (range, notes) = at(offset, 1, "the second statement")
                findings.append(finding(
                    context, at: range, "query holds more than one statement; an extractor runs a single SELECT",
                    help: "keep one SELECT; do writes in writer steps", notes: notes))
            case .notAQuery(let keyword, let offset):
                let (range, notes) = at(offset, keyword.unicodeScalars.count, "'\(keyword.uppercased())'")
                findings.append(finding(
                    context, at: range, "query is a \(keyword.uppercased()) statement, not a read-only query",
                    help: "an extractor only reads; do writes in writer steps", notes: notes))
            case .writes(let keyword, let offset):
                let (range, notes) = at(offset, keyword.unicodeScalars.count, "'\(keyword.uppercased())'")
                findings.append(finding(
                    context, at: range, "query is not read-only: it uses \(keyword.uppercased())",
                    help: "an extractor only reads; do writes in writer steps", notes: notes))
            case .unterminated(let offset):
                let (range, notes) = at(offset, 1, "the unterminated text")
                findings.append(finding(
                    context, at: range, "query has an unterminated string, quoted name or comment", notes: notes))
            }
        }
    }
}
