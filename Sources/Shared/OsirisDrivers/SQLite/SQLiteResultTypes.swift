import OML
import OsirisData

/// The decimal result columns of a processor query that SQLite cannot declare.
///
/// SQLite declares the type of a result column only when it reads a table's column directly; an
/// expression has none, and SQLite holds decimals as integers or reals, so `SUM(amount)` of a
/// `decimal(10,2)` column would come back as `714.05`, `714.1` or `714` depending on the digits.
/// A few shapes keep the scale of their argument, and the result is typed from the query text:
///
/// | select-list item | result |
/// |---|---|
/// | `SUM(col)`, `TOTAL(col)` of a decimal(p,s) input column, also with `FILTER (WHERE ...)` | decimal(38,s) |
/// | `MIN(col)`, `MAX(col)` | decimal(p,s) |
/// | `CAST(expr AS NUMERIC(p,s))` or `DECIMAL(p,s)` | decimal(p,s) |
///
/// Each may carry an alias (`AS name` or a bare name). Any other item keeps the type of its values.
enum SQLiteResultTypes {
    /// The fields of the items of `query`'s select list that have one of the shapes above, by the
    /// result column's index; empty for a query whose columns it cannot count (a `*`, a compound
    /// SELECT, or no leading SELECT).
    static func decimalFields(of query: String, inputs: [Schema]) -> [Int: Field] {
        let tokens = SQLTokenizer.tokenize(query)
        guard let items = selectList(tokens) else { return [:] }
        var fields: [Int: Field] = [:]
        for (index, item) in items.enumerated() {
            if let field = aggregate(tokens, item, inputs: inputs) ?? cast(tokens, item) { fields[index] = field }
        }
        return fields
    }

    private static func upper(_ token: SQLToken) -> String { token.kind == .word ? token.value.uppercased() : "" }

    private static func isPunctuation(_ tokens: [SQLToken], _ index: Int, _ mark: String) -> Bool {
        index < tokens.count && tokens[index].kind == .punctuation && tokens[index].text == mark
    }

    /// The token ranges of the outermost select list's items; nil when the columns cannot be counted.
    private static func selectList(_ tokens: [SQLToken]) -> [Range<Int>]? {
        guard let first = tokens.first, upper(first) == "SELECT" else { return nil }
        let ends: Set<String> = ["FROM", "WHERE", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT"]
        var index = 1
        if index < tokens.count, ["DISTINCT", "ALL"].contains(upper(tokens[index])) { index += 1 }
        var items: [Range<Int>] = []
        var start = index
        var depth = 0
        var listEnd: Int?
        while index < tokens.count {
            let token = tokens[index]
            if token.kind == .semicolon || token.kind == .unterminated { break }
            if token.kind == .punctuation {
                if token.text == "(" { depth += 1 }
                if token.text == ")" { depth -= 1 }
                if token.text == ",", depth == 0, listEnd == nil {
                    items.append(start..<index)
                    start = index + 1
                }
            } else if depth == 0 {
                let word = upper(token)
                if ["UNION", "INTERSECT", "EXCEPT"].contains(word) { return nil }
                if listEnd == nil, ends.contains(word) { listEnd = index }
            }
            index += 1
        }
        items.append(start..<(listEnd ?? index))
        for item in items {
            guard let last = item.last, !item.isEmpty else { return nil }
            if tokens[last].kind == .op, tokens[last].text == "*" { return nil }
        }
        return items
    }

    /// Whether the tokens from `index` to the item's end are nothing or an alias.
    private static func isAliasTail(_ tokens: [SQLToken], from index: Int, in item: Range<Int>) -> Bool {
        var index = index
        if index < item.upperBound, upper(tokens[index]) == "AS" { index += 1 }
        if index == item.upperBound { return true }
        let kind = tokens[index].kind
        return index + 1 == item.upperBound && (kind == .word || kind == .quotedIdentifier || kind == .string)
    }

    /// `SUM|TOTAL|MIN|MAX ( [DISTINCT] [qualifier .] column )` of a decimal input column with a scale.
    private static func aggregate(_ tokens: [SQLToken], _ item: Range<Int>, inputs: [Schema]) -> Field? {
        var index = item.lowerBound
        let function = upper(tokens[index])
        guard ["SUM", "TOTAL", "MIN", "MAX"].contains(function), isPunctuation(tokens, index + 1, "(") else { return nil }
        index += 2
        if index < item.upperBound, upper(tokens[index]) == "DISTINCT" { index += 1 }
        guard index < item.upperBound, [.word, .quotedIdentifier].contains(tokens[index].kind) else { return nil }
        var name = tokens[index].value
        index += 1
        if isPunctuation(tokens, index, "."), index + 1 < item.upperBound, [.word, .quotedIdentifier].contains(tokens[index + 1].kind) {
            name = tokens[index + 1].value
            index += 2
        }
        guard index < item.upperBound, isPunctuation(tokens, index, ")") else { return nil }
        index += 1
        if index < item.upperBound, upper(tokens[index]) == "FILTER", isPunctuation(tokens, index + 1, "(") {
            guard let close = closing(tokens, index + 1, in: item) else { return nil }
            index = close + 1
        }
        guard isAliasTail(tokens, from: index, in: item), var field = decimalColumn(named: name, in: inputs) else { return nil }
        if function == "SUM" || function == "TOTAL" { field.precision = 38 }
        return field
    }

    /// The decimal field with a scale that every input column called `name` agrees on (the widest
    /// precision and scale among them); nil when one of them is no such decimal.
    private static func decimalColumn(named name: String, in inputs: [Schema]) -> Field? {
        let lowered = name.lowercased()
        var found: Field?
        for schema in inputs {
            for field in schema.fields where field.name.lowercased() == lowered {
                guard field.type == .decimal, let precision = field.precision, let scale = field.scale else { return nil }
                let widest = max(precision - scale, (found?.precision ?? 0) - (found?.scale ?? 0)) + max(scale, found?.scale ?? 0)
                found = Field(name: name, type: .decimal, precision: widest, scale: max(scale, found?.scale ?? 0))
            }
        }
        return found
    }

    /// The index of the parenthesis that closes the one at `open`, within the item.
    private static func closing(_ tokens: [SQLToken], _ open: Int, in item: Range<Int>) -> Int? {
        var depth = 0
        for index in open..<item.upperBound {
            if isPunctuation(tokens, index, "(") { depth += 1 }
            if isPunctuation(tokens, index, ")") {
                depth -= 1
                if depth == 0 { return index }
            }
        }
        return nil
    }

    /// `CAST ( expression AS NUMERIC|DECIMAL ( p [, s] ) )`.
    private static func cast(_ tokens: [SQLToken], _ item: Range<Int>) -> Field? {
        let start = item.lowerBound
        guard upper(tokens[start]) == "CAST", isPunctuation(tokens, start + 1, "(") else { return nil }
        guard let close = closing(tokens, start + 1, in: item), isAliasTail(tokens, from: close + 1, in: item) else { return nil }
        // Backwards from the closing parenthesis: ) s , p ( TYPE AS, or ) p ( TYPE AS.
        var index = close - 1
        guard isPunctuation(tokens, index, ")") else { return nil }
        var numbers: [Int] = []
        index -= 1
        while index > start, tokens[index].kind == .number, let number = Int(tokens[index].text) {
            numbers.insert(number, at: 0)
            if isPunctuation(tokens, index - 1, ",") { index -= 2 } else { index -= 1; break }
        }
        guard (1...2).contains(numbers.count), isPunctuation(tokens, index, "("), index - 2 > start + 1,
              ["NUMERIC", "DECIMAL"].contains(upper(tokens[index - 1])), upper(tokens[index - 2]) == "AS" else { return nil }
        let precision = numbers[0]
        let scale = numbers.count == 2 ? numbers[1] : 0
        guard precision > 0, (0...precision).contains(scale) else { return nil }
        return Field(name: "", type: .decimal, precision: precision, scale: scale)
    }
}
