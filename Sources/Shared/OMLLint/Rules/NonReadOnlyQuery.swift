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
            switch problem {
            case .empty:
                findings.append(finding(context, at: node.range, "query has no SQL statement"))
            case .multipleStatements(let offset):
                findings.append(finding(
                    context, at: context.range(in: node, offset: offset, length: 1),
                    "query holds more than one statement; an extractor runs a single SELECT",
                    help: "keep one SELECT; do writes in writer steps"))
            case .notAQuery(let keyword, let offset):
                findings.append(finding(
                    context, at: context.range(in: node, offset: offset, length: keyword.unicodeScalars.count),
                    "query is a \(keyword.uppercased()) statement, not a read-only query",
                    help: "an extractor only reads; do writes in writer steps"))
            case .writes(let keyword, let offset):
                findings.append(finding(
                    context, at: context.range(in: node, offset: offset, length: keyword.unicodeScalars.count),
                    "query is not read-only: it uses \(keyword.uppercased())",
                    help: "an extractor only reads; do writes in writer steps"))
            case .unterminated(let offset):
                findings.append(finding(
                    context, at: context.range(in: node, offset: offset, length: 1),
                    "query has an unterminated string, quoted name or comment"))
            }
        }
    }
}
