/// A position in a text file: 1-based line and 1-based column counted in Unicode scalars.
public struct SourcePosition: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 1-based line number.
    public var line: Int
    /// The 1-based column, counted in Unicode scalars from the start of the line.
    public var column: Int

    /// Creates a position from a 1-based line and column.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The first character of a file.
    public static let start = SourcePosition(line: 1, column: 1)

    public static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }

    public var description: String { "\(line):\(column)" }
}

/// A half-open range of text: `start` is the first character, `end` the position just after the last.
public struct SourceRange: Hashable, Sendable, CustomStringConvertible {
    /// The first character of the range.
    public var start: SourcePosition
    /// The position just after the last character of the range.
    public var end: SourcePosition

    /// Creates a range; `end` defaults to one character after `start`.
    public init(start: SourcePosition, end: SourcePosition? = nil) {
        self.start = start
        self.end = end ?? SourcePosition(line: start.line, column: start.column + 1)
    }

    /// A one-character range at line 1, column 1, used where a file as a whole is at fault.
    public static let fileStart = SourceRange(start: .start)

    public var description: String { "\(start)-\(end)" }
}
