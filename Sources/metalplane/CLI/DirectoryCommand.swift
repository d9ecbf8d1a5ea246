import ArgumentParser
import Foundation
import NIOHTTP1

/// `metalplane directory …`: a realm's LDAP / Active Directory federation.
struct DirectoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "directory",
                                                    abstract: "Federate a realm with LDAP or Active Directory: add, list, show, sync, change and remove directories.",
                                                    subcommands: [Add.self, List.self, Show.self, Sync.self, Map.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a directory; the bind secret is read from standard input.")
        @Option(help: "Realm (the tenant's slug).") var realm: String
        @Option(help: "A name for the directory.") var name: String
        @Option(help: "ldap://host:port or ldaps://host:port.") var url: String
        @Flag(help: "Upgrade ldap:// with StartTLS.") var startTls = false
        @Option(help: "CA bundle (PEM) the server's certificate must chain to.") var caFile: String?
        @Option(help: "The service account's DN.") var bindDn: String
        @Option(help: "Where users are searched.") var userBase: String
        @Option(help: "Which entries are users.") var userFilter: String?
        @Option(help: "Where groups are searched (needed for group mappings).") var groupBase: String?
        @Option(help: "The attribute with the username (uid; sAMAccountName on Active Directory).") var usernameAttribute: String?
        @Option(help: "The entry's lifelong id attribute (entryUUID; objectGUID on Active Directory).") var idAttribute: String?
        @Option(help: "import (synced every interval) or on-demand (asked at each sign-in).") var mode: String?
        @Option(help: "Seconds between syncs (import mode).") var syncInterval: Int?
        @Option(parsing: .singleValue, help: "A group mapping, repeatable: '<group DN>=><role>[@<scope>]'.") var map: [String] = []
        func run() async throws {
            var body: [String: Any] = ["name": name, "url": url, "bindDn": bindDn, "userBase": userBase, "bindSecret": readLine(strippingNewline: true) ?? ""]
            if startTls { body["startTls"] = true }
            if let caFile { body["caFile"] = caFile }
            if let userFilter { body["userFilter"] = userFilter }
            if let groupBase { body["groupBase"] = groupBase }
            if let usernameAttribute { body["usernameAttribute"] = usernameAttribute }
            if let idAttribute { body["idAttribute"] = idAttribute }
            if let mode { body["mode"] = mode }
            if let syncInterval { body["syncIntervalSeconds"] = syncInterval }
            if !map.isEmpty { body["groupMappings"] = try map.map(DirectoryCommand.mapping) }
            try await CLIClient.call(.POST, "/api/v1/realms/\(realm)/directories", body: body)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a realm's directories with their last sync.")
        @Option(help: "Realm (the tenant's slug).") var realm: String
        func run() async throws { try await CLIClient.call(.GET, "/api/v1/realms/\(realm)/directories") }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a directory's settings and last sync.")
        @Option(help: "Realm (the tenant's slug).") var realm: String
        @Argument(help: "Directory id.") var directory: String
        func run() async throws { try await CLIClient.call(.GET, "/api/v1/realms/\(realm)/directories/\(directory)") }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sync a directory now and print the report (an unreachable directory changes nothing).")
        @Option(help: "Realm (the tenant's slug).") var realm: String
        @Argument(help: "Directory id.") var directory: String
        func run() async throws { try await CLIClient.call(.POST, "/api/v1/realms/\(realm)/directories/\(directory)/sync") }
    }

    struct Map: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a directory's group mappings.")
        @Option(help: "Realm (the tenant's slug).") var realm: String
        @Argument(help: "Directory id.") var directory: String
        @Option(parsing: .singleValue, help: "A group mapping, repeatable: '<group DN>=><role>[@<scope>]'; none clears them.") var map: [String] = []
        func run() async throws {
            try await CLIClient.call(.PATCH, "/api/v1/realms/\(realm)/directories/\(directory)", body: ["groupMappings": try map.map(DirectoryCommand.mapping)])
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a directory with the users and groups it brought.")
        @Option(help: "Realm (the tenant's slug).") var realm: String
        @Argument(help: "Directory id.") var directory: String
        func run() async throws { try await CLIClient.call(.DELETE, "/api/v1/realms/\(realm)/directories/\(directory)") }
    }

    /// `cn=admins,ou=groups,dc=x=>project-admin@project:prj_1` → the API's mapping object.
    static func mapping(_ text: String) throws -> [String: Any] {
        let parts = text.components(separatedBy: "=>")
        guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("a mapping is '<group DN>=><role>[@<scope>]': \(text)") }
        let target = parts[1].split(separator: "@", maxSplits: 1).map(String.init)
        var mapping: [String: Any] = ["groupDn": parts[0], "role": target[0]]
        if target.count == 2 { mapping["scope"] = target[1] }
        return mapping
    }
}
