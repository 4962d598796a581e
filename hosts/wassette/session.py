"""One MCP session with Wassette serving the agent component, as an agent
platform would hold it: list the tools, run a query, a create and a
describe, revoke the component's network grant and call again.

usage: python session.py WASSETTE COMPONENT_ID HOST

Wassette's state (component dir, secrets, config) comes from the
environment the caller sets. Prints one JSON document on stdout.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def tool_result(res):
    """What a tools/call returned: wassette's own failure, or the WIT result."""
    text = " ".join(getattr(c, "text", "") for c in res.content or [])
    if res.is_error:
        return {"wassette-error": text}
    structured = res.structured_content or {}
    return structured.get("result", structured) if structured else json.loads(text)


async def call(session, name, args):
    # Wassette loads components in the background after `initialize`: a call
    # made too early answers "Tool not found" once in a while. Retry that
    # only; anything else is the answer.
    for _ in range(50):
        res = await session.call_tool(name, args)
        out = tool_result(res)
        if "wassette-error" in out and "not found" in out["wassette-error"].lower():
            await asyncio.sleep(0.1)
            continue
        return out
    return out


async def main(wassette, component_id, host):
    params = StdioServerParameters(command=wassette, args=["run"], env=dict(os.environ))
    doc = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            for _ in range(100):
                tools = (await session.list_tools()).tools
                if any(t.name == "soql-query" for t in tools):
                    break
                await asyncio.sleep(0.1)
            doc["tools"] = [
                {"name": t.name, "description": t.description or "", "input_schema": t.input_schema}
                for t in tools
            ]
            # A first call, discarded: it can run before the policy is read.
            await call(session, "api-versions", {})
            soql = "SELECT Id, Name FROM Account WHERE Name LIKE 'Acme%' LIMIT 3"
            doc["query"] = await call(
                session, "soql-query", {"soql": soql, "max-records": None, "include-deleted": None}
            )
            fields = json.dumps({"Name": "Wassette Test Co", "Industry": "Energy"})
            doc["create"] = await call(
                session, "create-record", {"sobject": "Account", "fields-json": fields}
            )
            doc["describe"] = await call(session, "describe-sobject", {"sobject": "Account"})
            # The owner allowed Account only (a secret): Contact is refused.
            doc["guarded"] = await call(
                session,
                "soql-query",
                {"soql": "SELECT LastName FROM Contact", "max-records": None, "include-deleted": None},
            )
            doc["revoke"] = await call(
                session,
                "revoke-network-permission",
                {"component_id": component_id, "details": {"host": host}},
            )
            doc["after-revoke"] = await call(session, "org-limits", {})
    print(json.dumps(doc))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
