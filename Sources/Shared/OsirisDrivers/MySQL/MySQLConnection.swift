import CMariaDB
import OsirisCore

/// One libmariadb connection to a MariaDB or MySQL server, used from one thread.
///
/// Opened from a resolved connection's fields: `host`, `port`, `database`, `user`, `password`,
/// `socket` (or `unix_socket`), `connect_timeout` (seconds, default 10), and TLS: `ssl: true` or
/// `ssl_mode` (`sslmode`) `require`/`required` makes TLS mandatory, `verify_ca`, `verify_full` or
/// `verify_identity` also checks the server's certificate, `disable`/`disabled`/`prefer`/`preferred`
/// leave libmariadb's default; `ssl_ca`, `ssl_capath`, `ssl_cert`, `ssl_key` are passed through.
/// A server without TLS is refused: before the login when the certificate is verified, after it
/// (libmariadb 3.3 goes on in plain text) for `required`.
/// A `dsn`/`url` was already expanded into these fields by `ConnectionResolver`. The character set is
/// utf8mb4. Every error is a `StepError` classified by `MySQLConnection.stepError`, its message
/// passed through the run's masker.
final class MySQLConnection {
    let handle: UnsafeMutablePointer<MYSQL>
    /// The server's id of this connection, for `KILL QUERY`.
    let threadID: UInt
    private let masker: SecretMasker

    /// Whether libmariadb was initialised; `mysql_library_init` (`mysql_server_init`) is not thread-safe, a static let is
    /// initialised once.
    private static let libraryReady: Bool = mysql_server_init(0, nil, nil) == 0

    /// The default of `connect_timeout`, in seconds.
    static let defaultConnectTimeout = 10

    /// Connects; throws a connection (69), authentication (77) or configuration (78) error.
    /// `localInfile` lets the connection send data for `LOAD DATA LOCAL INFILE` (`MYSQL_OPT_LOCAL_INFILE`);
    /// the data then comes only from the handler `MySQLInfileLoader` installs, never from a file.
    init(_ connection: ResolvedConnection, masker: SecretMasker, localInfile: Bool = false) throws(StepError) {
        guard Self.libraryReady, let handle = mysql_init(nil) else {
            throw StepError(.internalError, "libmariadb could not be initialised")
        }
        self.handle = handle
        self.masker = masker
        let fields = connection.fields
        let requiresTLS: Bool
        do {
            requiresTLS = try Self.setOptions(handle, fields)
            var flag: UInt32 = localInfile ? 1 : 0
            mysql_options(handle, MYSQL_OPT_LOCAL_INFILE, &flag)
        } catch {
            mysql_close(handle)
            throw error
        }
        let host = Self.text(fields["host"])
        let port = fields["port"].flatMap { $0.intValue ?? $0.stringValue.flatMap { Int($0) } } ?? 0
        let connected = Self.withCString(host) { host in
            Self.withCString(Self.text(fields["user"])) { user in
                Self.withCString(Self.text(fields["password"])) { password in
                    Self.withCString(Self.text(fields["database"])) { database in
                        Self.withCString(Self.text(fields["socket"]) ?? Self.text(fields["unix_socket"])) { socket in
                            mysql_real_connect(handle, host, user, password, database, UInt32(clamping: port), socket, 0) != nil
                        }
                    }
                }
            }
        }
        guard connected else {
            let error = Self.stepError(handle, masker: masker, doing: "connecting to \(connection.reference)")
            mysql_close(handle)
            throw error
        }
        // libmariadb 3.3 goes on in plain text when the server offers no TLS, MYSQL_OPT_SSL_ENFORCE or not.
        if requiresTLS && mysql_get_ssl_cipher(handle) == nil {
            mysql_close(handle)
            throw StepError(.connection, "MariaDB error 2026 connecting to \(connection.reference): TLS is required, but the server does not offer it")
        }
        threadID = UInt(mysql_thread_id(handle))
    }

    deinit { mysql_close(handle) }

    /// Runs a statement and discards any result (`SET ...`, `START TRANSACTION`, `KILL QUERY`).
    func execute(_ sql: String) throws(StepError) {
        try send(sql)
        if let result = mysql_store_result(handle) { mysql_free_result(result) }
        if mysql_errno(handle) != 0 { throw error(doing: "running '\(sql)'") }
    }

    /// Runs a query and returns its result for streaming (`mysql_use_result`: rows come from the
    /// server as they are fetched, none are held).
    func stream(_ sql: String) throws(StepError) -> MySQLResult {
        try send(sql)
        guard let result = mysql_use_result(handle) else {
            if mysql_errno(handle) != 0 { throw error(doing: "running the query") }
            throw StepError(.run, "the query returned no rows to extract (it is not a SELECT)")
        }
        return MySQLResult(result, connection: self)
    }

    /// Runs a query and returns every row as text (NULL as nil), for small results such as catalog
    /// queries; values are UTF-8 decoded (binary columns are not meant for this).
    func rows(_ sql: String) throws(StepError) -> [[String?]] {
        let result = try stream(sql)
        let width = result.fields.count
        var rows: [[String?]] = []
        while let (values, lengths) = try result.next() {
            rows.append((0..<width).map { index in
                guard let value = values[index] else { return nil }
                let bytes = UnsafeRawBufferPointer(start: value, count: Int(lengths[index]))
                return String(decoding: bytes, as: UTF8.self)
            })
        }
        return rows
    }

    /// Whether the server is MariaDB (not MySQL), and its version as `10_11_19` (major * 10000 + minor * 100 + patch).
    var server: (mariaDB: Bool, version: Int) { (mariadb_connection(handle) != 0, Int(mysql_get_server_version(handle))) }

    /// The first of the warnings the last statement left (`SHOW WARNINGS`), as `Warning 1265: Data
    /// truncated ...`, or nil when it left none; deprecation notices (1287, such as MySQL 8's for
    /// `VALUES()` in `ON DUPLICATE KEY UPDATE`) say nothing about the data and are skipped.
    func firstWarning() throws(StepError) -> String? {
        guard mysql_warning_count(handle) > 0 else { return nil }
        for row in try rows("SHOW WARNINGS") where row.count == 3 && row[1] != "1287" {
            return masker.mask("\(row[0] ?? "") \(row[1] ?? ""): \(row[2] ?? "")")
        }
        return nil
    }

    /// Runs a statement whose end needs no result (`LOAD DATA`, `INSERT`); returns the affected rows.
    @discardableResult
    func update(_ sql: String) throws(StepError) -> Int {
        try send(sql)
        if let result = mysql_store_result(handle) { mysql_free_result(result) }
        if mysql_errno(handle) != 0 { throw error(doing: "running the statement") }
        return Int(truncatingIfNeeded: mysql_affected_rows(handle))
    }

    /// Sends `sql` as it is (bytes, so values need not be valid UTF-8); throws the server's error.
    func send(bytes sql: UnsafeRawBufferPointer) throws(StepError) {
        let status = mysql_real_query(handle, sql.baseAddress?.assumingMemoryBound(to: CChar.self), UInt(sql.count))
        if status != 0 { throw error(doing: "running the statement") }
        if let result = mysql_store_result(handle) { mysql_free_result(result) }
    }

    /// The number of the connection's last error (0 for none).
    var errorNumber: UInt32 { mysql_errno(handle) }

    /// A string literal in single quotes for this connection's character set and SQL mode.
    func literal(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes in
            var escaped = [CChar](repeating: 0, count: bytes.count * 2 + 1)
            let length = bytes.withMemoryRebound(to: CChar.self) { mysql_real_escape_string(handle, &escaped, $0.baseAddress, UInt(bytes.count)) }
            return "'" + String(decoding: escaped[..<Int(length)].map { UInt8(bitPattern: $0) }, as: UTF8.self) + "'"
        }
    }

    private func send(_ sql: String) throws(StepError) {
        var sql = sql
        let status = sql.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { mysql_real_query(handle, $0.baseAddress, UInt(bytes.count)) }
        }
        if status != 0 { throw error(doing: "running the query") }
    }

    /// The connection's current error, classified.
    func error(doing what: String) -> StepError { Self.stepError(handle, masker: masker, doing: what) }

    /// The error a failed call left on `handle`, classified by its number (DESIGN.md §7.4): deadlock
    /// (1213) and lock wait timeout (1205) are temporary (retryable, 75); server gone and lost
    /// connection (2006, 2013, 2055), the connection killed (1927) or the server shutting down
    /// (1053), can't connect (2002, 2003), unknown host (2005) and TLS failures (2026) are
    /// connection errors (retryable, 69); access denied (1044, 1045, 1698) is an
    /// authentication error (77); an unknown database (1049) a configuration error (78); anything
    /// else (bad SQL, 1064) a run error (1). The message is the server's, masked.
    static func stepError(_ handle: UnsafeMutablePointer<MYSQL>, masker: SecretMasker, doing what: String) -> StepError {
        let number = mysql_errno(handle)
        let message = masker.mask(String(cString: mysql_error(handle)))
        return StepError(code(forErrorNumber: number), "MariaDB error \(number) \(what): \(message)")
    }

    /// The class of a MariaDB/MySQL error number (see `stepError`).
    static func code(forErrorNumber number: UInt32) -> StepError.Code {
        switch number {
        case 1205, 1213: .temporary
        case 1053, 1927, 2002, 2003, 2005, 2006, 2013, 2026, 2055: .connection
        case 1044, 1045, 1698: .authentication
        case 1049: .configuration
        default: .run
        }
    }

    /// Sets the options; returns whether TLS is required.
    private static func setOptions(_ handle: UnsafeMutablePointer<MYSQL>, _ fields: [String: JSONValue]) throws(StepError) -> Bool {
        var timeout = UInt32(defaultConnectTimeout)
        if let value = fields["connect_timeout"], value != .null {
            guard let seconds = value.intValue ?? value.stringValue.flatMap({ Int($0) }), seconds > 0 else {
                throw StepError(.configuration, "connection field 'connect_timeout' must be a positive number of seconds")
            }
            timeout = UInt32(clamping: seconds)
        }
        mysql_options(handle, MYSQL_OPT_CONNECT_TIMEOUT, &timeout)
        mysql_options(handle, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        var enforce = false
        var verify = false
        if fields["ssl"]?.boolValue == true || fields["ssl"]?.stringValue?.lowercased() == "true" { enforce = true }
        if let mode = text(fields["ssl_mode"]) ?? text(fields["sslmode"]) {
            switch mode.lowercased().replacingAll("-", with: "_") {
            case "disable", "disabled", "allow", "prefer", "preferred": break
            case "require", "required": enforce = true
            case "verify_ca", "verify_full", "verify_identity":
                enforce = true
                verify = true
            default:
                throw StepError(.configuration, """
                    connection field 'ssl_mode' is '\(mode)'; use disabled, preferred, required, verify_ca or verify_identity
                    """)
            }
        }
        let files: [(String, mysql_option)] = [
            ("ssl_ca", MYSQL_OPT_SSL_CA), ("ssl_capath", MYSQL_OPT_SSL_CAPATH),
            ("ssl_cert", MYSQL_OPT_SSL_CERT), ("ssl_key", MYSQL_OPT_SSL_KEY),
        ]
        for (name, option) in files {
            if let path = text(fields[name]) { mysql_options(handle, option, path) }
        }
        if enforce {
            var flag: my_bool = 1
            mysql_options(handle, MYSQL_OPT_SSL_ENFORCE, &flag)
            // Set either way once TLS is asked for, so `required` means the same whatever libmariadb's default.
            var verifyFlag: my_bool = verify ? 1 : 0
            mysql_options(handle, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verifyFlag)
        }
        return enforce
    }

    private static func text(_ value: JSONValue?) -> String? {
        guard let value, value != .null else { return nil }
        if let text = value.stringValue { return text.isEmpty ? nil : text }
        return value.intValue.map(String.init)
    }

    private static func withCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let text else { return body(nil) }
        return text.withCString { body($0) }
    }
}

/// A streamed result (`mysql_use_result`): its fields, then its rows one by one.
final class MySQLResult {
    let result: UnsafeMutablePointer<MYSQL_RES>
    private let connection: MySQLConnection
    /// The result's fields (valid while the result lives).
    let fields: UnsafeMutableBufferPointer<MYSQL_FIELD>
    /// Whether every row was read (then freeing the result does not drain the connection).
    private(set) var finished = false

    init(_ result: UnsafeMutablePointer<MYSQL_RES>, connection: MySQLConnection) {
        self.result = result
        self.connection = connection
        fields = UnsafeMutableBufferPointer(start: mysql_fetch_fields(result), count: Int(mysql_num_fields(result)))
    }

    deinit { mysql_free_result(result) }

    /// The next row's values and lengths, or nil at the end; throws when the server or the
    /// connection failed on the way.
    func next() throws(StepError) -> (values: MYSQL_ROW, lengths: UnsafeMutablePointer<UInt>)? {
        guard let row = mysql_fetch_row(result) else {
            if mysql_errno(connection.handle) != 0 { throw connection.error(doing: "reading the rows") }
            finished = true
            return nil
        }
        return (row, mysql_fetch_lengths(result))
    }
}
