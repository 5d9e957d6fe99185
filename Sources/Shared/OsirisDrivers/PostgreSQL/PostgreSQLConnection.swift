import CLibPQ
import Glibc
import OsirisCore

/// A connection to a PostgreSQL server through libpq: the client behind postgres.extractor and
/// supabase.extractor. Errors come back as step errors classified from the SQLSTATE (DESIGN.md §7.4),
/// their messages passed through the run's masker.
// unchecked: the handle is used by the one thread running the step; only `cancel()` comes from
// another thread, and it uses libpq's PGcancel object, which libpq documents as safe for that.
final class PostgreSQLConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    private let cancelHandle: OpaquePointer?
    private let masker: SecretMasker

    /// The libpq keywords a connection's fields pass through as they are (`database` is `dbname`).
    static let passedKeywords = [
        "host", "hostaddr", "port", "user", "password", "sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl",
        "sslcompression", "sslnegotiation", "target_session_attrs", "application_name", "connect_timeout",
        "keepalives", "keepalives_idle", "gssencmode", "channel_binding",
    ]

    /// Opens a connection from a resolved connection's fields (`host`, `port`, `database`/`dbname`,
    /// `user`, `password`, `sslmode`, `connect_timeout` (default 10), `schema` as the search path, or
    /// a `dsn`/`url` the resolver did not expand), then sets the session to UTC, ISO dates, exact
    /// floats and hex bytea. Nothing is ever interpolated into a connection string.
    init(_ connection: ResolvedConnection, masker: SecretMasker) throws(StepError) {
        self.masker = masker
        let parameters = try Self.parameters(connection.fields)
        if let password = parameters.first(where: { $0.0 == "password" })?.1 { masker.register(password) }
        let opened: OpaquePointer? = Self.withCStrings(parameters.map(\.0)) { keywords in
            Self.withCStrings(parameters.map(\.1)) { values in PQconnectdbParams(keywords, values, 0) }
        }
        guard let opened else { throw StepError(.connection, "PostgreSQL: out of memory while connecting") }
        guard PQstatus(opened) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(opened))
            PQfinish(opened)
            throw Self.connectError(message, masker: masker, reference: connection.reference)
        }
        handle = opened
        cancelHandle = PQgetCancel(opened)
        // Libraries never print: the server's notices (NOTICE, WARNING) are dropped, not written to stderr.
        PQsetNoticeProcessor(opened, { _, _ in }, nil)
        var setup = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
        setup += "SET extra_float_digits = 3; SET bytea_output = 'hex'; SET client_encoding = 'UTF8'"
        if let schema = connection.fields["schema"]?.stringValue, !schema.isEmpty {
            setup += "; SET search_path TO " + Self.quote(schema)
        }
        try execute(setup)
    }

    deinit {
        if let cancelHandle { PQfreeCancel(cancelHandle) }
        PQfinish(handle)
    }

    /// The keyword/value pairs for `PQconnectdbParams`.
    static func parameters(_ given: [String: JSONValue]) throws(StepError) -> [(String, String)] {
        var fields = given
        for key in ConnectionURL.fieldNames {
            guard let text = fields[key]?.stringValue, let parsed = try ConnectionURL.parse(text, field: key) else { continue }
            for (name, value) in parsed.fields where fields[name] == nil { fields[name] = value }
            break
        }
        func text(_ key: String) -> String? {
            switch fields[key] {
            case .string(let value)?: value
            case .int(let value)?: String(value)
            case .double(let value)?: String(Int(value))
            case .bool(let value)?: value ? "1" : "0"
            default: nil
            }
        }
        var pairs: [(String, String)] = []
        for key in passedKeywords {
            if let value = text(key) { pairs.append((key, value)) }
        }
        if let database = text("database") ?? text("dbname") { pairs.append(("dbname", database)) }
        if text("connect_timeout") == nil { pairs.append(("connect_timeout", "10")) }
        if text("application_name") == nil { pairs.append(("application_name", "osiris")) }
        pairs.append(("client_encoding", "UTF8"))
        return pairs
    }

    /// The step error of a failed connection attempt: authentication → AUTH (77), a database that
    /// does not exist → CONFIG (78), anything else (refused, unknown host, timeout) → CONNECTION (69).
    static func connectError(_ raw: String, masker: SecretMasker, reference: String) -> StepError {
        let message = "PostgreSQL connection '\(reference)': " + masker.mask(Self.trimmed(raw))
        let lowered = raw.lowercased()
        if lowered.contains("password authentication failed") || lowered.contains("authentication failed")
            || lowered.contains("no password supplied") || lowered.contains("pg_hba.conf") {
            return StepError(.authentication, message)
        }
        if lowered.contains("database") && lowered.contains("does not exist") {
            return StepError(.configuration, message)
        }
        return StepError(.connection, message)
    }

    /// Runs `body` in one transaction on a new connection for the step: the step's connection opened,
    /// a cancelled run interrupting the running query (`PQcancel`), `begin` sent, config `timeout` (in
    /// seconds) set as the statement timeout. `body` ends the transaction itself (COMMIT, or ROLLBACK
    /// when nothing is to be kept); when it throws, the transaction is rolled back, and an error of a
    /// cancelled run is reported as the cancellation.
    static func inTransaction<R>(
        _ context: StepContext, begin: String = "BEGIN", _ body: (PostgreSQLConnection) throws(StepError) -> R
    ) throws(StepError) -> R {
        guard let resolved = context.connection else {
            throw StepError(.configuration, "step '\(context.step.id)' needs a PostgreSQL connection")
        }
        try context.cancellation.check()
        let connection = try PostgreSQLConnection(resolved, masker: context.masker)
        let key = context.cancellation.onCancel { connection.cancel() }
        defer { context.cancellation.remove(key) }
        do throws(StepError) {
            try connection.execute(begin)
            if let seconds = context.config("timeout")?.intValue {
                try connection.execute("SET LOCAL statement_timeout = \(seconds * 1000)")
            }
            return try body(connection)
        } catch {
            try? connection.execute("ROLLBACK")
            if context.cancellation.isCancelled { throw StepError(.cancelled, "interrupted") }
            throw error
        }
    }

    /// Interrupts the running query (from any thread); the query then fails with SQLSTATE 57014.
    func cancel() {
        guard let cancelHandle else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancelHandle, &buffer, Int32(buffer.count))
    }

    /// Runs SQL (one or several statements) that returns no rows to read.
    func execute(_ sql: String) throws(StepError) {
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw error(result) }
    }

    /// Runs a query and returns every row as text (NULL as nil), for small results such as catalog
    /// queries; `parameters` are sent apart from the SQL (`$1`, `$2`, ...), never interpolated.
    func rows(_ sql: String, parameters: [String] = []) throws(StepError) -> [[String?]] {
        let result = Self.withCStrings(parameters) { values in
            PQexecParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_TUPLES_OK else { throw error(result) }
        let columns = PQnfields(result)
        return (0..<PQntuples(result)).map { row in
            (0..<columns).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            }
        }
    }

    /// A result column's name, type OID and type modifier.
    struct ResultColumn: Equatable {
        var name: String
        var type: UInt32
        var modifier: Int32
    }

    /// The columns a query's result has, learned by preparing it without running it.
    func describe(_ sql: String) throws(StepError) -> [ResultColumn] {
        let prepared = PQprepare(handle, "", sql, 0, nil)
        defer { PQclear(prepared) }
        guard PQresultStatus(prepared) == PGRES_COMMAND_OK else { throw error(prepared) }
        let described = PQdescribePrepared(handle, "")
        defer { PQclear(described) }
        guard PQresultStatus(described) == PGRES_COMMAND_OK else { throw error(described) }
        return (0..<PQnfields(described)).map { index in
            ResultColumn(
                name: String(cString: PQfname(described, index)), type: PQftype(described, index),
                modifier: PQfmod(described, index))
        }
    }

    /// Runs `COPY (query) TO STDOUT` and hands every data row, as the COPY text format gives it
    /// (ending in a newline), to `row`; libpq holds one row at a time, so memory stays flat.
    func copyOut(_ query: String, row: (UnsafeRawBufferPointer) throws(StepError) -> Void) throws(StepError) {
        // The line break ends a `--` comment the query may end with.
        let started = PQexec(handle, "COPY (" + query + "\n) TO STDOUT")
        let status = PQresultStatus(started)
        guard status == PGRES_COPY_OUT else {
            defer { PQclear(started) }
            throw error(started)
        }
        PQclear(started)
        var failure: StepError?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let count = PQgetCopyData(handle, &buffer, 0)
            if count > 0, let buffer {
                defer { PQfreemem(buffer) }
                if failure == nil {
                    do throws(StepError) {
                        try row(UnsafeRawBufferPointer(start: buffer, count: Int(count)))
                    } catch {
                        // Stop the server sending; the rest of the COPY is drained and dropped below.
                        failure = error
                        cancel()
                    }
                }
                continue
            }
            if count == -2 {
                failure = failure ?? connectionError()
            }
            break
        }
        // Collect the COPY's final result (and any after it) so the connection is usable again.
        var outcome: StepError?
        while let result = PQgetResult(handle) {
            let resultStatus = PQresultStatus(result)
            if resultStatus != PGRES_COMMAND_OK && outcome == nil { outcome = error(result) }
            PQclear(result)
        }
        if let failure { throw failure }
        if let outcome { throw outcome }
    }

    /// Runs `COPY ... FROM STDIN` (`sql`) and sends what `body` hands to `send`, as it is, in the
    /// chunks given (large ones: each is one `PQputCopyData`). When `body` throws, the COPY is ended
    /// with a failure so the server discards it, and `body`'s error is rethrown; an error the server
    /// reports while rows are sent (a value a column rejects) ends the sending early.
    func copyIn(
        _ sql: String, _ body: (_ send: (UnsafeRawBufferPointer) throws(StepError) -> Void) throws(StepError) -> Void
    ) throws(StepError) {
        let started = PQexec(handle, sql)
        guard PQresultStatus(started) == PGRES_COPY_IN else {
            defer { PQclear(started) }
            throw error(started)
        }
        PQclear(started)
        var sendFailed = false
        var failure: StepError?
        do throws(StepError) {
            try body { bytes throws(StepError) in
                guard bytes.count > 0 else { return }
                // Not 1: the server ended the COPY with an error (collected below) or the connection broke.
                guard PQputCopyData(handle, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count)) == 1 else {
                    sendFailed = true
                    throw connectionError()
                }
            }
            if PQputCopyEnd(handle, nil) != 1 { sendFailed = true }
        } catch {
            if !sendFailed {
                failure = error
                _ = PQputCopyEnd(handle, "osiris: load abandoned")
            }
        }
        // The COPY's own result says what the server thought of the rows; it outranks a failed send.
        var outcome: StepError?
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            if status == PGRES_COPY_IN {
                // Still in COPY after a failed send: end it so the connection leaves the COPY state.
                _ = PQputCopyEnd(handle, "osiris: load abandoned")
            } else if status != PGRES_COMMAND_OK && outcome == nil {
                outcome = error(result)
            }
            PQclear(result)
            if PQstatus(handle) != CONNECTION_OK { break }
        }
        if let failure { throw failure }
        if let outcome { throw outcome }
        if sendFailed || PQstatus(handle) != CONNECTION_OK { throw connectionError() }
    }

    /// The step error of a failed result, classified by SQLSTATE (see `classify`).
    func error(_ result: OpaquePointer?) -> StepError {
        guard let result else { return connectionError() }
        let state = Self.field(result, "C")
        let primary = Self.field(result, "M") ?? Self.trimmed(String(cString: PQresultErrorMessage(result)))
        guard let state else {
            if PQstatus(handle) != CONNECTION_OK { return connectionError() }
            return StepError(.run, "PostgreSQL: " + masker.mask(primary.isEmpty ? "unknown error" : primary))
        }
        var message = primary
        if let detail = Self.field(result, "D") { message += " (\(detail))" }
        if let hint = Self.field(result, "H") { message += "; hint: \(hint)" }
        return StepError(Self.classify(state), "PostgreSQL error \(state): " + masker.mask(message))
    }

    /// The class of a SQLSTATE: serialization failure, deadlock, lock not available, a statement
    /// timeout or cancel (57014) → TEMPORARY; connection exceptions (08xxx) and server shutdown
    /// (57P01–57P03) → CONNECTION; invalid authorization (28xxx) → AUTH; anything else → RUN. (A
    /// query cancelled because the run was interrupted is the caller's to report as CANCELLED.)
    static func classify(_ state: String) -> StepError.Code {
        switch state {
        case "40001", "40P01", "55P03", "57014": .temporary
        case "57P01", "57P02", "57P03": .connection
        case _ where state.hasPrefix("08"): .connection
        case _ where state.hasPrefix("28"): .authentication
        default: .run
        }
    }

    /// A lost connection: retryable, with libpq's message.
    private func connectionError() -> StepError {
        StepError(.connection, "PostgreSQL connection lost: " + masker.mask(Self.trimmed(String(cString: PQerrorMessage(handle)))))
    }

    /// One field of a result's error (`C` SQLSTATE, `M` primary message, `D` detail, `H` hint).
    private static func field(_ result: OpaquePointer, _ code: Unicode.Scalar) -> String? {
        guard let pointer = PQresultErrorField(result, Int32(code.value)) else { return nil }
        return String(cString: pointer)
    }

    /// A libpq message without its trailing newline and the doubled spaces after `FATAL:`.
    static func trimmed(_ message: String) -> String {
        var text = message
        while text.last == "\n" || text.last == " " { text.removeLast() }
        // libpq indents its hints on a new line with a tab: one line, single spaces.
        return text.replacingAll("\n\t", with: " ").replacingAll("\n", with: " ").replacingAll(":  ", with: ": ")
    }

    /// An identifier in double quotes, inner quotes doubled.
    static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingAll("\"", with: "\"\"") + "\""
    }

    /// A string literal in single quotes, inner quotes doubled (standard_conforming_strings is on).
    static func literal(_ text: String) -> String {
        "'" + text.replacingAll("'", with: "''") + "'"
    }

    /// Calls `body` with a NULL-terminated array of C strings that live for the call.
    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        pointers.append(nil)
        return body(pointers)
    }
}
