import { describe, expect, it } from 'vitest';
import { webSocketUrl } from './websocket-url.ts';

describe('webSocketUrl', () => {
  it('uses the host root when the page is served at /', () => {
    expect(webSocketUrl('', { href: 'http://127.0.0.1:8080/' })).toBe('ws://127.0.0.1:8080/ws/llm');
    expect(webSocketUrl(undefined, { href: 'http://localhost/' })).toBe('ws://localhost/ws/llm');
  });

  it('keeps the sub-path a proxy serves the page under', () => {
    expect(webSocketUrl('', { href: 'http://example.test/rag/' })).toBe('ws://example.test/rag/ws/llm');
    expect(webSocketUrl('', { href: 'http://example.test/rag/index.html' })).toBe('ws://example.test/rag/ws/llm');
    expect(webSocketUrl('', { href: 'http://example.test/rag/?q=1#top' })).toBe('ws://example.test/rag/ws/llm');
  });

  it('keeps a non-default port', () => {
    expect(webSocketUrl('', { href: 'http://example.test:3000/rag/' })).toBe('ws://example.test:3000/rag/ws/llm');
  });

  it('turns https into wss', () => {
    expect(webSocketUrl('', { href: 'https://example.test:8443/rag/' })).toBe('wss://example.test:8443/rag/ws/llm');
    expect(webSocketUrl('', { href: 'https://example.test/' })).toBe('wss://example.test/ws/llm');
  });

  it('uses an explicit VITE_API_URL with or without a trailing slash', () => {
    const page = { href: 'http://page.test/' };
    expect(webSocketUrl('https://api.example.test', page)).toBe('wss://api.example.test/ws/llm');
    expect(webSocketUrl('https://api.example.test/', page)).toBe('wss://api.example.test/ws/llm');
    expect(webSocketUrl('http://api.example.test:9000/rag', page)).toBe('ws://api.example.test:9000/rag/ws/llm');
    expect(webSocketUrl('http://api.example.test:9000/rag/', page)).toBe('ws://api.example.test:9000/rag/ws/llm');
  });

  it('resolves a relative VITE_API_URL against the page', () => {
    expect(webSocketUrl('/api', { href: 'https://example.test/rag/' })).toBe('wss://example.test/api/ws/llm');
  });
});
