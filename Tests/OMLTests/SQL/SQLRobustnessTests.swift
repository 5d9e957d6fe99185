import OsirisCore
import OML
import Testing


/// Tests that the tokenizer and the analyses survive arbitrary input.
@Suite("SQL robustness")
struct SQLRobustnessTests {
    /// Fragments that exercise every lexical path and the keywords the analyses look for.
    static let fragments = [
        "SELECT", "FROM", "JOIN", "WITH", "AS", "(", ")", ",", ".", ";", "'", "''", "\"", "`", "$$", "$t$", "${",
        "}", "$1", "--", "\n", "/*", "*/", "/*!", "E'", "\\", "*", "-", "+", "::", "1", "1.5e", ".5", "0x",
        "a", "b", "é", "🎉", "e\u{301}", " ", "\u{00A0}", "DISTINCT", "FOR", "UPDATE", "INTO", "DELETE", "ON",
        "WHERE", "UNION", "LATERAL", "RECURSIVE", "MATERIALIZED", "NOT", "IS", "${params.x}",
    ]

    /// Checks that random fragment soups never crash, every token lies inside the text, and offsets increase.
    @Test("random inputs never crash and tokens stay in bounds")
    func randomInputs() {
        var generator = SplitMix64(seed: 2024)
        for _ in 0..<3_000 {
            let count = Int.random(in: 0...40, using: &generator)
            let sql = (0..<count).map { _ in Self.fragments.randomElement(using: &generator)! }.joined()
            let scalarCount = sql.unicodeScalars.count
            let tokens = SQLTokenizer.tokenize(sql)
            var previousEnd = 0
            for token in tokens {
                #expect(token.offset >= previousEnd && token.length > 0 && token.end <= scalarCount, "\(sql)")
                previousEnd = token.end
            }
            #expect(tokens.dropLast().allSatisfy { $0.kind != .unterminated })
            _ = SQLAnalysis.readOnlyProblem(sql)
            for reference in SQLAnalysis.tableReferences(sql) {
                #expect(reference.offset >= 0 && reference.offset + reference.length <= scalarCount)
            }
            if let select = SQLAnalysis.singleTableSelect(sql) {
                #expect(select.columns.allSatisfy { $0.offset + $0.length <= scalarCount })
            }
        }
    }
}
