import Foundation

/// A throw-away OpenLDAP server (Debian's `slapd`) on a loopback port, with the overlays a directory
/// federation meets in the field: memberof (users carry `memberOf`), refint (a deleted or renamed entry
/// leaves no dangling `member`) and syncprov (RFC 4533 content synchronisation). One mdb database under
/// `dc=example,dc=test`; the root DN binds with `rootPassword`.
public final class SlapdServer: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    public static let suffix = "dc=example,dc=test"
    public static let rootDN = "cn=admin,dc=example,dc=test"
    public static let rootPassword = "slapd-root-secret"
    private let process = Process()
    /// The address slapd listens on.
    public let host: String
    /// What runs slapd and the LDAP tools on another host (`ip netns exec <ns>`); empty on this one.
    private let launcher: [String]
    public var url: String { "ldap://\(host):\(port)" }

    /// Starts slapd; `ldif` (entries under the suffix) is loaded with slapadd before it starts, the way a
    /// large directory is loaded. With a `launcher`, slapd runs on that fleet host and listens on `host`.
    public init(ldif: String = "", host: String = "127.0.0.1", launcher: [String] = [], loadTimeout: Double = 60) async throws {
        self.host = host
        self.launcher = launcher
        port = launcher.isEmpty ? try freePort() : 3389
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("slapd-\(port)-\(UUID().uuidString.prefix(8))")
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("slapd.conf")
        try Self.configuration(data: data.path, pidFile: directory.appendingPathComponent("slapd.pid").path)
            .write(to: config, atomically: true, encoding: .utf8)
        let base = """
            dn: \(Self.suffix)
            objectClass: dcObject
            objectClass: organization
            o: Example
            dc: example

            """
        let seed = directory.appendingPathComponent("seed.ldif")
        try (base + "\n" + ldif).write(to: seed, atomically: true, encoding: .utf8)
        _ = try runTool("/usr/sbin/slapadd", ["-q", "-f", config.path, "-l", seed.path], timeout: loadTimeout)
        // -d 0 keeps slapd in the foreground (a child the test owns) without debug output.
        let command = launcher + ["/usr/sbin/slapd", "-f", config.path, "-h", url + "/", "-d", "0"]
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let pidFile = directory.appendingPathComponent("slapd.pid").path
        for _ in 0..<100 {
            // On this host: it accepts connections. On another: it wrote its pid file, which it does once listening.
            if launcher.isEmpty ? accepts(port) : FileManager.default.fileExists(atPath: pidFile) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw EmulatorError.notReady("slapd (apt-get install slapd ldap-utils)")
    }

    /// Applies LDIF changes (`changetype:` records) as the root DN, with ldapmodify.
    public func modify(_ ldif: String) throws {
        let file = directory.appendingPathComponent("change-\(UUID().uuidString.prefix(8)).ldif")
        try ldif.write(to: file, atomically: true, encoding: .utf8)
        let command = launcher + ["/usr/bin/ldapmodify", "-x", "-H", url, "-D", Self.rootDN, "-w", Self.rootPassword, "-f", file.path]
        try Self.run(command[0], Array(command.dropFirst()))
    }

    /// Stops slapd (the directory "cannot be reached") and keeps its data for `start()`.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        ChildExit.waitBlocking(process, timeout: 10)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    private static func configuration(data: String, pidFile: String) -> String {
        """
        include /etc/ldap/schema/core.schema
        include /etc/ldap/schema/cosine.schema
        include /etc/ldap/schema/inetorgperson.schema
        include /etc/ldap/schema/nis.schema
        pidfile \(pidFile)
        modulepath /usr/lib/ldap
        moduleload back_mdb
        moduleload memberof
        moduleload refint
        moduleload syncprov
        sizelimit 500
        database mdb
        maxsize 1073741824
        suffix "\(suffix)"
        rootdn "\(rootDN)"
        rootpw \(rootPassword)
        directory \(data)
        index objectClass eq
        index uid,cn,member,memberOf eq
        index entryUUID,entryCSN eq
        overlay memberof
        memberof-group-oc groupOfNames
        memberof-member-ad member
        memberof-memberof-ad memberOf
        memberof-refint TRUE
        overlay refint
        refint_attributes member
        overlay syncprov
        syncprov-checkpoint 100 10
        access to attrs=userPassword by self write by anonymous auth by * none
        access to * by * read

        """
    }

    private static func run(_ tool: String, _ arguments: [String]) throws {
        _ = try runTool(tool, arguments, timeout: 60)
    }
}
