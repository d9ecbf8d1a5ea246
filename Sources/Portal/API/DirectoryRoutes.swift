import Core
import HTTPTypes
import Hummingbird
import IAM

/// A realm's LDAP / Active Directory federation: the directories, their group → role mappings, and
/// a sync on demand (the scheduled one runs in `DirectorySyncLoop`).
enum DirectoryRoutes {
    static let directories = "/api/v1/realms/{realm}/directories"

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let identity = services.identity
        return [
            RouteSpec(.get, directories, "directories.list", summary: "List a realm's directories with their last sync.", tag: "users",
                      access: .authenticated(.usersRead, .realmParameter), response: "DirectoryList") { call in
                try JSONBody.response(ListBody(items: try await identity.directories(in: call.realm!), nextCursor: nil))
            },
            RouteSpec(.post, directories, "directories.create",
                      summary: "Federate an LDAP or Active Directory server (its group mappings never grant above your own roles).", tag: "users",
                      access: .authenticated(.usersWrite, .realmParameter), request: "NewDirectory", response: "Directory", status: 201,
                      idempotent: true) { call in
                let input = try await JSONBody.decode(DirectoryInput.self, from: call.request, context: call.context)
                try checkMappings(input.groupMappings ?? [], call)
                let directory = try await identity.createDirectory(input, in: call.realm!)
                call.audit.target = directory.id
                return try JSONBody.response(directory, status: .created, version: directory.version)
            },
            RouteSpec(.get, directories + "/{id}", "directories.get", summary: "Show a directory and its last sync.", tag: "users",
                      access: .authenticated(.usersRead, .realmParameter), response: "Directory") { call in
                let directory = try await identity.directory(try call.context.parameters.require("id"), in: call.realm!)
                return try JSONBody.response(directory, version: directory.version)
            },
            RouteSpec(.patch, directories + "/{id}", "directories.update",
                      summary: "Change a directory's settings, secret or mappings (honours If-Match).", tag: "users",
                      access: .authenticated(.usersWrite, .realmParameter), request: "DirectoryPatch", response: "Directory", conditional: true) { call in
                let input = try await JSONBody.decode(DirectoryInput.self, from: call.request, context: call.context)
                try checkMappings(input.groupMappings ?? [], call)
                let id = try call.context.parameters.require("id")
                call.audit.target = id
                let directory = try await identity.updateDirectory(id, in: call.realm!, input: input, expectedVersion: try call.request.ifMatchVersion())
                return try JSONBody.response(directory, version: directory.version)
            },
            RouteSpec(.delete, directories + "/{id}", "directories.delete",
                      summary: "Remove a directory with the users and groups it brought (their sessions end; honours If-Match).", tag: "users",
                      access: .authenticated(.usersWrite, .realmParameter), status: 204, conditional: true) { call in
                let id = try call.context.parameters.require("id")
                call.audit.target = id
                try await identity.deleteDirectory(id, in: call.realm!, expectedVersion: try call.request.ifMatchVersion())
                return JSONBody.noContent()
            },
            RouteSpec(.post, directories + "/{id}/sync", "directories.sync",
                      summary: "Sync a directory now; an unreachable directory changes nothing and says so.", tag: "users",
                      access: .authenticated(.usersWrite, .realmParameter), response: "DirectorySyncReport") { call in
                let id = try call.context.parameters.require("id")
                call.audit.target = id
                return try JSONBody.response(try await identity.syncDirectory(id, in: call.realm!))
            },
        ]
    }

    /// Each mapped role is one the caller could grant by a role binding over that scope.
    private static func checkMappings(_ mappings: [Directory.GroupMapping], _ call: RouteSpec.Call) throws {
        for (index, mapping) in mappings.enumerated() {
            _ = try UserRoutes.requireGrantable(mapping.role, scope: mapping.scope, field: "groupMappings[\(index)].scope", call)
        }
    }
}
