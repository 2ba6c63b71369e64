import express from 'express';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

// Facts remembered per session: lost as soon as the next call lands on another replica.
const facts: Record<string, string[]> = {};

const getServer = () => {
    const server = new McpServer({ name: 'notes', version: '1.0.0' });
    server.registerTool(
        'remember',
        { description: 'Remember a fact for this conversation', inputSchema: { fact: z.string() } },
        async ({ fact }, extra) => {
            (facts[extra.sessionId ?? 'anonymous'] ??= []).push(fact);
            return { content: [{ type: 'text', text: 'noted' }] };
        }
    );
    server.registerTool(
        'add',
        {
            description: 'Add two numbers',
            inputSchema: { a: z.number(), b: z.number() }
        },
        async ({ a, b }) => ({
            content: [{ type: 'text', text: String(a + b) }]
        })
    );
    return server;
};

const app = express();
app.use(express.json());

// One transport per session, kept in this process's memory.
const transports: { [sessionId: string]: StreamableHTTPServerTransport } = {};

app.post('/mcp', async (req, res) => {
    const sessionId = req.headers['mcp-session-id'] as string | undefined;
    let transport: StreamableHTTPServerTransport;
    if (sessionId && transports[sessionId]) {
        transport = transports[sessionId];
    } else if (!sessionId && isInitializeRequest(req.body)) {
        transport = new StreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            onsessioninitialized: (sessionId) => {
                transports[sessionId] = transport;
            }
        });
        transport.onclose = () => {
            if (transport.sessionId) {
                delete transports[transport.sessionId];
            }
        };
        const server = getServer();
        await server.connect(transport);
    } else {
        res.status(400).json({
            jsonrpc: '2.0',
            error: { code: -32000, message: 'Bad Request: No valid session ID provided' },
            id: null
        });
        return;
    }
    try {
        await transport.handleRequest(req, res, req.body);
    } catch (error) {
        console.error('Error handling MCP request:', error);
        if (!res.headersSent) {
            res.status(500).json({
                jsonrpc: '2.0',
                error: { code: -32603, message: 'Internal server error' },
                id: null
            });
        }
    }
});

// GET opens the server-to-client stream of a session, DELETE ends the session.
const handleSessionRequest = async (req: express.Request, res: express.Response) => {
    const sessionId = req.headers['mcp-session-id'] as string | undefined;
    if (!sessionId || !transports[sessionId]) {
        res.status(400).send('Invalid or missing session ID');
        return;
    }
    await transports[sessionId].handleRequest(req, res);
};

app.get('/mcp', handleSessionRequest);
app.delete('/mcp', handleSessionRequest);

const PORT = Number(process.env.PORT ?? 3000);
app.listen(PORT, () => {
    console.log(`MCP server listening on port ${PORT}`);
});

const shutdown = async () => {
    for (const sessionId in transports) {
        await transports[sessionId].close();
        delete transports[sessionId];
    }
    process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
