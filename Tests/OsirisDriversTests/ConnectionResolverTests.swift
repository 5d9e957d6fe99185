import Foundation
import OML
import OsirisCore
import OsirisDrivers
import Testing

@Suite struct ConnectionResolverTests {
    static let file = try! ConnectionsFile.parse(Array("""
        version: 1
        connections:
          pg:
            shop:
              default: true
              host: 127.0.0.1
              port: 5432
              database: shop
              user: etl
              password: ${SHOP_PG_PASSWORD}
            warehouse:
              dsn: ${WAREHOUSE_URL}
              database: explicit_wins
          sqlite:
            demo: {path: data/shop.db}
        """.utf8), path: "conf/osiris_connections.yaml")

    func resolver(_ environment: [String: String], masker: SecretMasker = SecretMasker()) -> ConnectionResolver {
        ConnectionResolver(connections: Self.file, searched: "--connections conf/osiris_connections.yaml", environment: environment, masker: masker)
    }

    @Test func referenceAndFamilyDefaultResolveWithoutAStep() throws {
        let masker = SecretMasker()
        let resolver = resolver(["SHOP_PG_PASSWORD": "s3cret-pw"], masker: masker)
        let byFamily = try resolver.resolve(nil, family: "postgresql")
        #expect(byFamily.reference == "@pg.shop")
        #expect(byFamily.family == "postgres")
        #expect(byFamily.fields == ["host": "127.0.0.1", "port": 5432, "database": "shop", "user": "etl", "password": "s3cret-pw"])
        #expect(masker.mask("login s3cret-pw") == "login ***")
        #expect(try resolver.resolve("@sqlite.demo").fields["path"] == "conf/data/shop.db")
        #expect(try resolver.resolve("pg").reference == "@pg.shop")
    }

    @Test func unsetVariableAndUnknownAliasAreConfigurationErrors() {
        let resolver = resolver([:])
        do {
            _ = try resolver.resolve(ConnectionReference(family: "pg", alias: "shop"), family: "postgres")
            Issue.record("resolved with an unset variable")
        } catch {
            #expect(error.code == .configuration)
            #expect(error.exitStatus == .configuration)
            #expect(error.message == "environment variable SHOP_PG_PASSWORD is not set (field 'password' of connection '@pg.shop')")
        }
        do {
            _ = try resolver.resolve("@pg.nope")
            Issue.record("resolved an unknown alias")
        } catch {
            #expect(error.exitStatus == .configuration)
            #expect(error.message == "unknown connection '@pg.nope' in conf/osiris_connections.yaml; its aliases: shop, warehouse")
        }
        #expect(throws: StepError.self) { _ = try resolver.resolve("@mysql.x") }
    }

    @Test func dsnFieldIsExpandedAndItsPasswordMasked() throws {
        let masker = SecretMasker()
        let url = "postgres://loader:p%40ss-word@db.internal:6543/dw?sslmode=require&application_name=osiris"
        let resolved = try resolver(["WAREHOUSE_URL": url], masker: masker).resolve("@pg.warehouse")
        #expect(resolved.fields["host"] == "db.internal")
        #expect(resolved.fields["port"] == 6543)
        #expect(resolved.fields["user"] == "loader")
        #expect(resolved.fields["password"] == "p@ss-word")
        #expect(resolved.fields["database"] == "explicit_wins")
        #expect(resolved.fields["sslmode"] == "require")
        #expect(resolved.fields["application_name"] == "osiris")
        #expect(masker.mask("a p@ss-word b p%40ss-word c \(url)") == "a *** b *** c ***")
    }

    @Test(arguments: [
        ("postgresql://u@[::1]:5433/shop", "postgres", ["host": "::1", "port": 5433, "user": "u", "database": "shop"] as [String: JSONValue]),
        ("mysql://root:pw@localhost/movies", "mysql", ["host": "localhost", "user": "root", "password": "pw", "database": "movies"]),
        ("sqlite:examples/demo/shop.db", "sqlite", ["path": "examples/demo/shop.db"]),
        ("sqlite:///tmp/x.db", "sqlite", ["path": "/tmp/x.db"]),
    ])
    func urlsParse(_ text: String, _ family: String, _ fields: [String: JSONValue]) throws {
        let parsed = try #require(try ConnectionURL.parse(text))
        #expect(parsed.family == family)
        #expect(parsed.fields == fields)
    }

    @Test func urlErrorsNeverShowTheURL() throws {
        do {
            _ = try ConnectionURL.parse("postgres://u:hunter22@h:99999/db", field: "dsn", alias: "@pg.w")
            Issue.record("a bad port was accepted")
        } catch {
            #expect(error.code == .configuration)
            #expect(error.message == "the port of the URL in field 'dsn' of connection '@pg.w' is not a number from 1 to 65535")
        }
        #expect(try ConnectionURL.parse("postgres://u:hunter22@h/db")?.redacted == "postgres://u@h/db")
        #expect(try ConnectionURL.parse("@pg.shop") == nil)
    }

    @Test func stepOverridesAreMergedOnceAndForbiddenFieldsAreNot() throws {
        let step = ManifestStep(
            id: "extract", component: "postgres.extractor", mode: .extract, needs: [], connection: nil,
            config: ["table": "orders", "host": "replica", "port": 5433, "schema": "sales", "database": "other"],
            retry: RetryPolicy(attempts: 1, backoffMilliseconds: 0))
        let resolved = try #require(try resolver(["SHOP_PG_PASSWORD": "pw"]).resolve(step, family: "postgres"))
        #expect(resolved.fields["host"] == "replica")
        #expect(resolved.fields["port"] == 5433)
        #expect(resolved.fields["schema"] == "sales")
        #expect(resolved.fields["database"] == "shop")
    }

    @Test func noConnectionsFileSaysWhereItLooked() {
        let resolver = ConnectionResolver(connections: nil, searched: "looked for ./osiris_connections.yaml", environment: [:], masker: SecretMasker())
        do {
            _ = try resolver.resolve(nil, family: "postgres", requester: "step 'extract'")
            Issue.record("resolved without a file")
        } catch {
            #expect(error.message == "step 'extract' needs a default 'postgres' connection, but no connections file was found (looked for ./osiris_connections.yaml)")
        }
    }
}
