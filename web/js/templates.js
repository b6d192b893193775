// Starting points for a new project's labeling interface, each with a sample task for the live preview.

// A small picture for the image templates' preview (data: URLs are allowed by the CSP's img-src).
const SAMPLE_IMAGE = "data:image/svg+xml;base64," + btoa(
  '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200"><rect width="320" height="200" fill="#dde6f0"/>'
  + '<circle cx="110" cy="100" r="50" fill="#f2a541"/><rect x="190" y="60" width="90" height="90" fill="#4d7ea8"/></svg>',
);
const SAMPLE_TEXT = "Acme Corp. opened a new office in Berlin, and Maria Lopez says the coffee is great.";

export const TEMPLATES = [
  {
    name: "Text classification",
    config: `<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single" showInline="true">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
</View>`,
    sample: { text: SAMPLE_TEXT },
  },
  {
    name: "Named entity recognition",
    config: `<View>
  <Labels name="label" toName="text">
    <Label value="PER" background="#f2a541"/>
    <Label value="ORG" background="#4d7ea8"/>
    <Label value="LOC" background="#7bb274"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>`,
    sample: { text: SAMPLE_TEXT },
  },
  {
    name: "Image classification",
    config: `<View>
  <Image name="image" value="$image"/>
  <Choices name="choice" toName="image" choice="single">
    <Choice value="Circle"/>
    <Choice value="Square"/>
  </Choices>
</View>`,
    sample: { image: SAMPLE_IMAGE },
  },
  {
    name: "Bounding boxes",
    config: `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Circle" background="#f2a541"/>
    <Label value="Square" background="#4d7ea8"/>
  </RectangleLabels>
</View>`,
    sample: { image: SAMPLE_IMAGE },
  },
  {
    name: "Summarisation",
    config: `<View>
  <Text name="text" value="$text"/>
  <TextArea name="summary" toName="text" rows="3" editable="true" maxSubmissions="1"
            placeholder="One-sentence summary"/>
</View>`,
    sample: { text: SAMPLE_TEXT },
  },
];

/** Sample data for a config's $variables: the template's own values, else placeholder text. */
export function sampleData(dataKeys, sample = {}) {
  return Object.fromEntries(dataKeys.map((key) => [key, sample[key] ?? (key.match(/image|img|url/i)
    ? SAMPLE_IMAGE : SAMPLE_TEXT)]));
}
