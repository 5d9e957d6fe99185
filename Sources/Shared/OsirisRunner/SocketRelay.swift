import OML
import OsirisCore
import OsirisDrivers
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A database server reached from inside bubblewrap, where the network is loopback only: the host
/// listens on a Unix socket bound into the sandbox, and copies each connection made there to and
/// from the server's host:port, byte for byte (the protocol, the authentication and the password
/// pass through untouched; the relay sees only what a router would).
final class SocketRelay: Sendable {
    private let listener: Int32
    private let path: String
    private let closed = Atomic(false)
    private let connections = Mutex<Set<Int32>>([])

    /// Listens on `path` (a socket file, owner-only folder around it) and relays to `host`:`port`.
    init(path: String, host: String, port: Int) throws(SandboxError) {
        self.path = path
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw SandboxError("the relay socket path '\(path)' is too long", .software)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SandboxError("cannot create a relay socket: \(systemMessage(errno))", .software) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        // The worker runs as another uid inside its user namespace; the folder keeps everyone else out.
        guard bound == 0, chmod(path, 0o777) == 0, listen(descriptor, 16) == 0 else {
            let reason = systemMessage(errno)
            Glibc.close(descriptor)
            throw SandboxError("cannot listen on the relay socket '\(path)': \(reason)", .software)
        }
        listener = descriptor
        startThread { [self] in accept(host: host, port: port) }
    }

    /// Stops listening, ends the connections under way and removes the socket file.
    func stop() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        for descriptor in connections.withLock({ $0 }) { shutdown(descriptor, Int32(SHUT_RDWR)) }
        unlink(path)
    }

    private func accept(host: String, port: Int) {
        while true {
            let client = Glibc.accept(listener, nil, nil)
            if client >= 0 { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
            if client < 0 {
                if errno == EINTR { continue }
                Glibc.close(listener)
                return
            }
            startThread { [self] in relay(client, host: host, port: port) }
        }
    }

    private func relay(_ client: Int32, host: String, port: Int) {
        guard let server = Self.connect(host: host, port: port) else {
            Glibc.close(client)
            return
        }
        connections.withLock { $0.formUnion([client, server]) }
        if closed.load(ordering: .acquiring) { shutdown(client, Int32(SHUT_RDWR)) }
        let done = Atomic(0)
        startThread { [self] in
            Self.copy(from: server, to: client)
            if done.add(1, ordering: .acquiringAndReleasing).newValue == 2 { finish(client, server) }
        }
        Self.copy(from: client, to: server)
        if done.add(1, ordering: .acquiringAndReleasing).newValue == 2 { finish(client, server) }
    }

    private func finish(_ client: Int32, _ server: Int32) {
        connections.withLock { $0.subtract([client, server]) }
        Glibc.close(client)
        Glibc.close(server)
    }

    /// Copies until the end of `source`, then passes the end on.
    private static func copy(from source: Int32, to target: Int32) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        loop: while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            var sent = 0
            while sent < count {
                let written = buffer[sent..<count].withUnsafeBytes { send(target, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if written < 0, errno == EINTR { continue }
                if written <= 0 { break loop }
                sent += written
            }
        }
        shutdown(target, Int32(SHUT_WR))
        shutdown(source, Int32(SHUT_RD))
    }

    private static func connect(host: String, port: Int) -> Int32? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &results) == 0 else { return nil }
        defer { freeaddrinfo(results) }
        var candidate = results
        while let info = candidate {
            let descriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            if descriptor >= 0 {
                if Glibc.connect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return descriptor }
                Glibc.close(descriptor)
            }
            candidate = info.pointee.ai_next
        }
        return nil
    }
}

/// Which database connections reach their servers through relays under bubblewrap, and the
/// connections rewritten to use them.
enum DatabaseRelays {
    /// Where the worker finds the relays inside bubblewrap.
    static let workerFolder = "/relays"

    /// How `connection` reaches its server through a relay whose socket is in `folder` (the
    /// worker's view): the rewritten fields, the relay's socket file name and the server's
    /// host:port; nil when it cannot (a socket or several hosts already, a DSN, or TLS that a Unix
    /// socket would drop: PostgreSQL over a Unix socket never uses TLS, so only a loopback server
    /// or `sslmode` disable/allow is relayed, and a MariaDB connection with TLS settings is not).
    static func plan(_ connection: ResolvedConnection, index: Int, folder: String)
        -> (fields: [String: JSONValue], socket: String, host: String, port: Int)?
    {
        var fields = connection.fields
        func text(_ key: String) -> String? {
            fields[key].flatMap { $0.stringValue ?? $0.intValue.map(String.init) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let host = text("host"), !host.hasPrefix("/"), !host.contains(","),
              text("dsn") == nil, text("url") == nil, text("hostaddr") == nil else { return nil }
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(host)
        switch connection.family {
        case "postgres":
            let port = text("port").flatMap(Int.init) ?? 5432
            let mode = text("sslmode")?.lowercased()
            guard mode == "disable" || mode == "allow" || (loopback && (mode == nil || mode == "prefer")) else { return nil }
            fields["host"] = .string("\(folder)/pg-\(index)")
            fields["port"] = .int(port)
            fields["sslmode"] = .string("disable")
            return (fields, "pg-\(index)/.s.PGSQL.\(port)", host, port)
        case "mysql":
            guard host != "localhost", text("socket") == nil, text("unix_socket") == nil else { return nil }
            let port = text("port").flatMap(Int.init) ?? 3306
            let tls = ["ssl", "ssl_mode", "sslmode", "ssl_ca", "ssl_capath", "ssl_cert", "ssl_key"].contains { text($0) != nil }
            guard !tls || ["disabled", "disable", "false"].contains(text("ssl_mode") ?? text("sslmode") ?? text("ssl") ?? "") else { return nil }
            fields["host"] = .string("localhost")
            fields["socket"] = .string("\(folder)/mysql-\(index).sock")
            fields.removeValue(forKey: "port")
            return (fields, "mysql-\(index).sock", host, port)
        default:
            return nil
        }
    }
}
