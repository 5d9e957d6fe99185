import ArgumentParser
import OML
import OsirisCore

/// What a tool says `--connections` is for, so each tool's `--help` keeps its own sentence while the
/// flag and the code that finds and reads the file are shared.
public protocol ConnectionsPurpose {
    /// The help text of `--connections` in this tool.
    static var help: String { get }
}

/// `--connections FILE` and the lookup order of DESIGN.md §5: the flag, else `$OSIRIS_CONNECTIONS`,
/// else `./osiris_connections.yaml`, else `$XDG_CONFIG_HOME/osiris/connections.yaml`. Mount it
/// with `@OptionGroup` (oml-lint, oml-compile, osiris-exec, osiris-discover, osiris-chat).
public struct ConnectionsOptions<Purpose: ConnectionsPurpose>: ParsableArguments {
    /// The file named on the command line, if any.
    @Option(name: .long, help: ArgumentHelp(Purpose.help, valueName: "file"))
    public var connections: String?

    /// Creates the options with their defaults.
    public init() {}

    /// Creates the options with this value, as a tool's fast path does instead of parsing it.
    public init(connections: String?) {
        // Set on a copy: inside an initializer the assignment would build a new, unparsed wrapper.
        var options = Self()
        options.connections = connections
        self = options
    }

    /// The connections file to use, or nil when none is named and none exists where it is looked for.
    public func path(environment: [String: String]) -> String? {
        ConnectionsLookup.path(explicit: connections, environment: environment)
    }

    /// The connections file, read and checked, or nil when there is none. A named file that is
    /// missing is an input error (66); one that does not decode a configuration error (78).
    public func load(environment: [String: String]) throws -> ConnectionsFile? {
        try ConnectionsLookup.load(explicit: connections, environment: environment)
    }

    /// Where the file was looked for, for messages when an alias is not found.
    public var searched: String {
        connections.map { "--connections \($0)" }
            ?? "looked for $OSIRIS_CONNECTIONS, ./osiris_connections.yaml and $XDG_CONFIG_HOME/osiris/connections.yaml"
    }
}

/// The lookup of `--connections` for a value already parsed (a tool's fast path, `ConnectionsOptions`).
public enum ConnectionsLookup {
    /// The connections file to use for the `--connections` value `explicit`, or nil when none is
    /// named and none exists where it is looked for.
    public static func path(explicit: String?, environment: [String: String]) -> String? {
        ConnectionsFile.locate(explicit: explicit, environment: environment, fileExists: DirectoryWalker.exists)
    }

    /// The connections file for the `--connections` value `explicit`, read and checked, or nil when
    /// there is none. A named file that is missing is an input error (66); one that does not decode
    /// a configuration error (78).
    public static func load(explicit: String?, environment: [String: String]) throws -> ConnectionsFile? {
        try path(explicit: explicit, environment: environment).map { path in try ConnectionsFile.load(path: path) }
    }
}

/// `--snapshot FILE`: a discovery snapshot to check tables and columns against.
public struct SnapshotOptions: ParsableArguments {
    /// The snapshot file named on the command line, if any.
    @Option(name: .long, help: ArgumentHelp("Discovery snapshot to check tables and columns against (OML400, OML401).", valueName: "file"))
    public var snapshot: String?

    /// Creates the options with their defaults.
    public init() {}

    /// Creates the options with this value, as a tool's fast path does instead of parsing it.
    public init(snapshot: String?) {
        // Set on a copy: inside an initializer the assignment would build a new, unparsed wrapper.
        var options = Self()
        options.snapshot = snapshot
        self = options
    }

    /// The snapshot, read and decoded, or nil without the flag. A missing file is an input error (66),
    /// one that does not decode bad machine input (65).
    public func load() throws -> Snapshot? { try Self.load(path: snapshot) }

    /// The snapshot named by a `--snapshot` value already parsed (a tool's fast path), or nil without one.
    public static func load(path: String?) throws -> Snapshot? {
        try path.map { path in try Snapshot.load(path: path) }
    }
}

/// `--stdin-filename NAME`: how findings name standard input.
public struct StandardInputOptions: ParsableArguments {
    /// The name reported for standard input (`-` by default).
    @Option(name: .long, help: ArgumentHelp("The file name to report for standard input.", valueName: "name"))
    public var stdinFilename = "-"

    /// Creates the options with their defaults.
    public init() {}

    /// Creates the options with this value, as a tool's fast path does instead of parsing it.
    public init(stdinFilename: String) {
        // Set on a copy: inside an initializer the assignment would build a new, unparsed wrapper.
        var options = Self()
        options.stdinFilename = stdinFilename
        self = options
    }

    /// The name to report for `path`: the `--stdin-filename` for `-`, the path otherwise.
    public func displayName(of path: String) -> String { path == "-" ? stdinFilename : path }
}
