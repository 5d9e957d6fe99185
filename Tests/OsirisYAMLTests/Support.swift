import OsirisCore
import OsirisYAML
import Testing

/// A 1-based range `l1:c1-l2:c2`.
func span(_ l1: Int, _ c1: Int, _ l2: Int, _ c2: Int) -> SourceRange {
    SourceRange(start: SourcePosition(line: l1, column: c1), end: SourcePosition(line: l2, column: c2))
}

/// A 1-based position.
func at(_ line: Int, _ column: Int) -> SourcePosition {
    SourcePosition(line: line, column: column)
}

/// Parses text that must be valid and non-empty and returns its root.
func root(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> YAMLNode {
    let document = try YAMLParser.parse(text)
    return try #require(document.root, sourceLocation: sourceLocation)
}

/// Parses bytes that must fail and returns the error.
func syntaxError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> YAMLSyntaxError? {
    do {
        let document = try YAMLParser.parse(bytes)
        Issue.record("expected a syntax error, parsed \(String(describing: document.root?.kindName))",
                     sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Parses text that must fail and returns the error.
func syntaxError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> YAMLSyntaxError? {
    syntaxError(Array(text.utf8), sourceLocation: sourceLocation)
}

extension YAMLNode {
    /// The value at a path of mapping keys and sequence indices (test helper).
    func at(_ path: Any...) -> YAMLNode? {
        var node: YAMLNode? = self
        for step in path {
            if let key = step as? String {
                node = node?[key]
            } else if let index = step as? Int, let items = node?.sequence, index < items.count {
                node = items[index]
            } else {
                return nil
            }
        }
        return node
    }

    /// The keys of a mapping in order (test helper).
    var keys: [String] {
        (mapping ?? []).map { $0.key.scalar?.text ?? "?" }
    }
}
