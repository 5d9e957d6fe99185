import OsirisCore

/// A failure reading or writing data: a malformed file, an unsupported option, an I/O error or a
/// missing file or column. Every kind ends a step with exit status 1 (the step failed).
public struct DataError: OsirisError, Equatable {
    /// What kind of failure this is.
    public enum Kind: Sendable, Equatable {
        /// The data does not follow its format: a row with too many fields, an unterminated quote.
        case malformed
        /// An option the library does not support, such as an encoding other than UTF-8.
        case unsupported
        /// The system refused a read or write.
        case io
        /// A file or a column that does not exist.
        case notFound
        /// A value that does not fit its column's declared or inferred type.
        case typeMismatch
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// What went wrong, lowercase, with user names in single quotes.
    public var message: String
    /// The file concerned, when known.
    public var path: String?
    /// The 1-based line in that file, when known.
    public var line: Int?
    /// The column concerned, when the error is about one column's values.
    public var column: String?

    /// Creates a data error.
    public init(_ kind: Kind, _ message: String, path: String? = nil, line: Int? = nil, column: String? = nil) {
        self.kind = kind
        self.message = message
        self.path = path
        self.line = line
        self.column = column
    }

    /// Always `.failure`: these errors fail the step that met them.
    public var exitStatus: ExitStatus { .failure }

    /// `PATH:LINE: MESSAGE`, dropping the parts that are not known.
    public var description: String {
        switch (path, line) {
        case let (path?, line?): "\(path):\(line): \(message)"
        case let (path?, nil): "\(path): \(message)"
        case let (nil, line?): "line \(line): \(message)"
        case (nil, nil): message
        }
    }
}
