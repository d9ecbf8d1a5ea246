import NIOCore
import IAM
import HTTPTypes
import Core

/// The component schemas of the OpenAPI document, next to the wire types they describe.
enum OpenAPISchemas {
    private static func object(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        return .object(schema)
    }

    private static let string: JSONValue = .object(["type": "string"])
    private static let nullableString: JSONValue = .object(["type": .array(["string", "null"])])
    private static let integer: JSONValue = .object(["type": "integer"])
    private static let nullableInteger: JSONValue = .object(["type": .array(["integer", "null"])])
    private static let boolean: JSONValue = .object(["type": "boolean"])
    private static let role: JSONValue = .object(["type": "string", "enum": .array(["platform-admin", "domain-admin", "org-admin", "project-admin", "member", "viewer"])])

    private static func list(_ item: String) -> JSONValue {
        object(["items": .object(["type": "array", "items": .object(["$ref": .string("#/components/schemas/\(item)")])]),
                "nextCursor": nullableString], required: ["items"])
    }

    static let all: [String: JSONValue] = [
        "Error": object(["error": object(["code": string, "message": string, "requestId": string, "details": .object(["type": "object"])],
                                         required: ["code", "message", "requestId"])], required: ["error"]),
        "OAuthError": object(["error": string, "error_description": string, "request_id": string], required: ["error"]),
        "Health": object(["status": string]),
        "Readiness": object(["status": string, "checks": .object(["type": "object", "additionalProperties": string])]),
        "PrometheusText": string,
        "OpenAPIDocument": .object(["type": "object"]),
        "OIDCDiscovery": object(["issuer": string, "token_endpoint": string, "jwks_uri": string, "userinfo_endpoint": string,
                                 "end_session_endpoint": string, "revocation_endpoint": string], required: ["issuer", "jwks_uri"]),
        "JWKS": object(["keys": .object(["type": "array", "items": object(["kty": string, "kid": string, "use": string, "alg": string, "n": string, "e": string])])]),
        "TokenRequest": object(["grant_type": .object(["type": "string", "enum": ["password", "client_credentials", "refresh_token"]]),
                                "client_id": string, "client_secret": string, "username": string, "password": string,
                                "refresh_token": string, "scope": string], required: ["grant_type"]),
        "TokenResponse": object(["access_token": string, "token_type": string, "expires_in": integer, "refresh_token": string,
                                 "refresh_expires_in": integer, "id_token": string, "scope": string, "session_state": string],
                                required: ["access_token", "token_type", "expires_in"]),
        "TokenRevocation": object(["token": string, "refresh_token": string, "client_id": string]),
        "UserInfo": object(["sub": string, "preferred_username": string, "email": string, "realm_access": .object(["type": "object"])]),
        "Realm": object(["id": string, "name": string, "displayName": string, "tenantId": nullableString,
                         "status": .object(["type": "string", "enum": ["active", "suspended"]]), "createdAt": integer, "version": integer]),
        "RealmList": list("Realm"),
        "NewRealm": object(["name": string, "displayName": string, "tenantId": string], required: ["name"]),
        "RoleBinding": object(["id": string, "role": role, "scope": string, "principalKind": .object(["type": "string", "enum": ["user", "client", "api_key", "group"]]),
                               "principalId": string]),
        "RoleBindingList": list("RoleBinding"),
        "NewRoleBinding": object(["role": role, "scope": string, "principalKind": .object(["type": "string", "enum": ["user", "client", "api_key", "group"]]),
                                  "principalId": string], required: ["role", "principalKind", "principalId"]),
        "Me": object(["kind": string, "id": string, "name": string, "realm": string, "realmId": string, "tenantId": nullableString,
                      "roles": .object(["type": "array", "items": .object(["$ref": "#/components/schemas/RoleBinding"])])]),
        "User": object(["id": string, "realmId": string, "username": string, "email": nullableString, "enabled": boolean,
                        "createdAt": integer, "updatedAt": integer, "version": integer]),
        "UserList": list("User"),
        "NewUser": object(["username": string, "email": string, "password": string, "enabled": boolean], required: ["username"]),
        "Group": object(["id": string, "realmId": string, "name": string, "createdAt": integer,
                         "members": .object(["type": "array", "items": string])]),
        "GroupList": list("Group"),
        "NewGroup": object(["name": string], required: ["name"]),
        "UserPatch": object(["email": string, "password": string, "enabled": boolean]),
        "Client": object(["id": string, "realmId": string, "clientId": string, "public": boolean, "createdAt": integer]),
        "ClientList": list("Client"),
        "NewClient": object(["clientId": string, "public": boolean], required: ["clientId"]),
        "CreatedClient": object(["client": .object(["$ref": "#/components/schemas/Client"]), "clientSecret": nullableString]),
        "APIKey": object(["id": string, "realmId": string, "name": string, "prefix": string, "projectId": nullableString, "createdBy": string,
                          "createdAt": integer, "expiresAt": nullableInteger, "revokedAt": nullableInteger, "version": integer,
                          "roles": .object(["type": "array", "items": .object(["$ref": "#/components/schemas/RoleBinding"])])]),
        "APIKeyList": list("APIKey"),
        "NewAPIKey": object(["name": string, "projectId": string, "roles": .object(["type": "array", "items": role]), "expiresAt": integer],
                            required: ["name"]),
        "CreatedAPIKey": object(["apiKey": .object(["$ref": "#/components/schemas/APIKey"]), "key": string], required: ["apiKey", "key"]),
        "AuditRecord": object(["id": string, "at": integer, "actorKind": string, "actorId": string, "actorName": string,
                               "realmId": nullableString, "tenantId": nullableString, "action": string, "target": nullableString,
                               "result": .object(["type": "string", "enum": ["success", "failure"]]), "status": integer,
                               "requestId": string, "source": string]),
        "AuditList": list("AuditRecord"),
    ].merging(TenancySchemas.all) { $1 }.merging(AgentSchemas.all) { $1 }
}
