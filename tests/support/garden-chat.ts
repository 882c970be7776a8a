// What the chat-lane suites share: one small document set the fixture model can be asked
// about, the question they ask, and two views of the frames a socket received.

/** A one-document knowledge base whose words the question below covers. */
export const gardenDocuments = [
  {
    source: 'garden.md',
    content: [
      'The little garden has tomatoes, beans and sunflowers that grow tall in the summer sun.',
      'Water the garden tomatoes every morning; the beans need a stick to climb.',
      'Sunflowers in the garden turn their heads to follow the sun across the sky.',
    ].join('\n\n'),
  },
];

/** A question the garden documents answer. */
export const gardenQuestion = 'What grows in the little garden in summer?';

/** The frame types in order. */
export const frameTypes = (frames: Array<{ type: string }>) => frames.map((frame) => frame.type);

/** The frames without the tokens and sources, for failure messages. */
export const frameOutline = (frames: Array<{ type: string }>) =>
  JSON.stringify(frames.filter((frame) => frame.type !== 'token' && frame.type !== 'sources'));
