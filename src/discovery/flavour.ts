/**
 * Which kind of WOPI client Quire serves: it decides the client-specific CheckFileInfo properties and save rules.
 * Read from the editor's discovery XML, or set by configuration; 'generic' is a client Quire does not recognise,
 * served the properties every client reads.
 */
export const FLAVOURS = ['onlyoffice', 'collabora', 'microsoft', 'generic'] as const;

export type Flavour = (typeof FLAVOURS)[number];

export const isFlavour = (value: unknown): value is Flavour => (FLAVOURS as readonly unknown[]).includes(value);
