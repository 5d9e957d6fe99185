/// A file of one of the toolchain's formats (connections file, snapshot, manifest) that cannot be
/// used, with where the problem is when that is known.
public struct FileFormatError: OsirisError, Equatable {
    /// The file's path as given.
    public var path: String
    /// What is wrong, in lowercase.
    public var message: String
    /// Where, when the problem has a position.
    public var range: SourceRange?
    /// 65 for machine input that does not decode, 78 for a bad connections file.
    public var exitStatus: ExitStatus

    /// Creates a file format error.
    public init(path: String, message: String, range: SourceRange? = nil, exitStatus: ExitStatus) {
        self.path = path
        self.message = message
        self.range = range
        self.exitStatus = exitStatus
    }

    /// Where the problem starts, when known.
    public var position: SourcePosition? { range?.start }

    public var description: String {
        if let position { return "\(path):\(position.line):\(position.column): \(message)" }
        return "\(path): \(message)"
    }
}
