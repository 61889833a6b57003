// Minimal types for the parts of xmpp.js that xepcheck uses (the packages ship none).
declare module "@xmpp/xml" {
  export type Node = Element | string;
  export class Element {
    constructor(name: string, attrs?: Record<string, string | number | undefined>);
    name: string;
    parent: Element | null;
    children: Node[];
    attrs: Record<string, string>;
    is(name: string, xmlns?: string): boolean;
    getName(): string;
    getNS(): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    text(): string;
    c(name: string, attrs?: Record<string, string | undefined>): Element;
    t(text: string): Element;
    up(): Element;
    root(): Element;
    append(...nodes: Node[]): Element;
    toString(): string;
  }
  export class Parser {
    constructor();
    on(event: "start", cb: (el: Element) => void): this;
    on(event: "element", cb: (el: Element) => void): this;
    on(event: "end", cb: (el: Element) => void): this;
    on(event: "error", cb: (err: Error) => void): this;
    write(data: string): void;
  }
  export function xml(
    name: string,
    attrs?: Record<string, string | number | undefined> | null,
    ...children: (Node | Node[] | null | undefined | false)[]
  ): Element;
  export function escapeXML(s: string): string;
  export default xml;
}

declare module "@xmpp/xml/lib/parse.js" {
  import type { Element } from "@xmpp/xml";
  export default function parse(data: string): Element;
}

declare module "@xmpp/client" {
  import type { Element } from "@xmpp/xml";
  interface XmppClient {
    start(): Promise<unknown>;
    stop(): Promise<void>;
    on(event: string, cb: (...args: unknown[]) => void): void;
    reconnect: { stop(): void };
    send(el: Element): Promise<void>;
  }
  export function client(options: Record<string, unknown>): XmppClient;
}
