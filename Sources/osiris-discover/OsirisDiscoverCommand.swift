import ArgumentParser
import Dispatch
import OsirisCLI
import OsirisCore
import OsirisDiscovery
import OsirisDrivers
import Synchronization

/// `osiris-discover`: prints the discovery snapshot of one connection (DESIGN.md §8).
struct OsirisDiscoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "osiris-discover",
        abstract: "Describe a database's tables and columns as a deterministic JSON snapshot.",
        discussion: """
            CONNECTION is '@family.alias', a family alone (its default alias), or a URL: postgres://, \
            mysql://, sqlite:PATH or file:DIR. The snapshot (osiris-snapshot(5)) goes to standard output, \
            or to --output atomically, leaving an identical existing file untouched. Snapshots are cached \
            under $XDG_CACHE_HOME/osiris/discovery and reused while the catalog's structure is unchanged. \
            Exit status: 0 success, 64 usage error, 66 a SQLite file or folder is missing, 69 the server \
            is unreachable, 73 output cannot be created, 75 a catalog query timed out, 77 credentials \
            rejected, 78 configuration (unknown alias, unset variable, bad connections file), 130/143 \
            interrupted.
            """,
        version: "osiris-discover \(osirisVersion)")

    @Argument(help: ArgumentHelp("The connection: @family.alias, a family, or a URL.", valueName: "connection"))
    var connection: String

    @OptionGroup var connections: ConnectionsOptions<DiscoverConnections>

    @Option(name: .long, help: ArgumentHelp("How deep to go: tables, columns or profile.", valueName: "depth"))
    var depth: String = "columns"

    @Option(name: .long, parsing: .singleValue,
            help: ArgumentHelp("Only the tables matching these glob patterns (comma-separated, repeatable).", valueName: "pattern,..."))
    var tables: [String] = []

    @Option(name: .long, help: ArgumentHelp("Sample rows per table at depth profile (0 for none).", valueName: "n"))
    var sample: Int = 5

    @Flag(name: .long, help: "Ignore the cached snapshot and read the catalog again.")
    var refresh = false

    @Option(name: .long, help: ArgumentHelp("Seconds each catalog query may run.", valueName: "seconds"))
    var statementTimeout: Int = 30

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write the snapshot to this file instead of standard output.", valueName: "file"))
    var output: String?

    func validate() throws {
        if DiscoveryDepth(rawValue: depth) == nil { throw ValidationError("--depth must be tables, columns or profile, not '\(depth)'") }
        if sample < 0 { throw ValidationError("--sample must be 0 or more") }
        if statementTimeout < 1 { throw ValidationError("--statement-timeout must be at least 1") }
    }

    func run() throws {
        let cancellation = CancellationToken()
        SignalWatcher.start { status in cancellation.cancel(status: status) }
        try ToolRunner.run(tool: "osiris-discover") { try execute(cancellation) }
    }

    private func execute(_ cancellation: CancellationToken) throws -> ExitStatus {
        let environment = Environment.current
        let masker = SecretMasker()
        let connectionsFile = try connections.load(environment: environment)
        let options = DiscoveryOptions(
            connection: connection, depth: DiscoveryDepth(rawValue: depth) ?? .columns,
            tables: tables.flatMap { $0.split(separator: ",").map { String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) } }.filter { !$0.isEmpty },
            sample: sample, refresh: refresh, cacheDirectory: Discovery.cacheDirectory(environment: environment),
            statementTimeout: statementTimeout)
        let progress = ProgressLine(enabled: FileDescriptorOutput.standardError.isTerminal)
        progress.start("discovering \(masker.mask(connection))")
        let outcome: DiscoveryOutcome
        do {
            outcome = try Discovery.run(
                options, connections: connectionsFile, searched: connections.searched, environment: environment,
                cancellation: cancellation, masker: masker)
        } catch {
            progress.finish()
            throw error
        }
        progress.finish()
        for warning in outcome.warnings { ToolRunner.reportError(tool: "osiris-discover", warning, label: "warning") }
        if let output, output != "-" {
            try AtomicFile.write(outcome.bytes, to: output)
        } else {
            try FileDescriptorOutput.standardOutput.write(outcome.bytes)
        }
        return .success
    }
}

/// A progress line on standard error, shown only on a terminal and only once discovery has taken
/// longer than a moment, erased when it ends.
final class ProgressLine: Sendable {
    private let enabled: Bool
    private let state = Mutex<(shown: Bool, done: Bool)>((false, false))

    init(enabled: Bool) { self.enabled = enabled }

    func start(_ text: String) {
        guard enabled else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(400)) { [self] in
            state.withLock { state in
                guard !state.done else { return }
                state.shown = true
                try? FileDescriptorOutput.standardError.write("\r\u{1B}[Kosiris-discover: \(text)...")
            }
        }
    }

    func finish() {
        state.withLock { state in
            state.done = true
            if state.shown { try? FileDescriptorOutput.standardError.write("\r\u{1B}[K") }
        }
    }
}

/// What `--connections` is for in osiris-discover.
enum DiscoverConnections: ConnectionsPurpose {
    static let help = "Connections file (default: $OSIRIS_CONNECTIONS, ./osiris_connections.yaml, $XDG_CONFIG_HOME/osiris/connections.yaml)."
}

@main
enum Main {
    static func main() { OsirisDiscoverCommand.runAsTool() }
}
