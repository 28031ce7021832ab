/**
 * Writes Quire's blank Office Open XML templates (templates/blank.docx, .xlsx, .pptx).
 *
 *   node --import tsx scripts/make-templates.ts [outDir]
 *
 * The parts are written here from the ECMA-376 structure and zipped with fflate, so that the output is a pure
 * function of this file and the fflate version (pinned exactly in package.json): fixed timestamps, fixed entry
 * order ([Content_Types].xml first, as Office writes it) and DEFLATE at a fixed level. fflate's deflate is plain
 * JavaScript, so unlike node:zlib its output does not depend on the zlib build, the Node version or the CPU.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';

/** Every timestamp in the templates: in docProps/core.xml, and in the ZIP entries. */
const FIXED_W3CDTF = '2024-01-01T00:00:00Z';
// ZIP times are local, and fflate reads this Date's local fields: midnight local time is 00:00 in every zone.
const FIXED_ZIP_MTIME = new Date(2024, 0, 1);

/** Parts are written in the order given (an object keeps its string keys in insertion order). */
function zip(parts: Record<string, Uint8Array>): Uint8Array {
  return zipSync(parts, { level: 9, mtime: FIXED_ZIP_MTIME });
}

// ---------------------------------------------------------------------------------------------------------------
// Shared pieces

const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/**
 * Drops the line breaks and indentation used below for readability (no part has text where they would matter);
 * a line that ends inside a tag is joined with a space, so attributes stay separated.
 */
function xml(body: string): Buffer {
  let compact = '';
  for (const line of body.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    compact += compact && !compact.endsWith('>') ? ` ${trimmed}` : trimmed;
  }
  return Buffer.from(XML_DECL + compact, 'utf8');
}

const NS = {
  contentTypes: 'http://schemas.openxmlformats.org/package/2006/content-types',
  packageRels: 'http://schemas.openxmlformats.org/package/2006/relationships',
  officeRels: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships',
  coreProps: 'http://schemas.openxmlformats.org/package/2006/metadata/core-properties',
  appProps: 'http://schemas.openxmlformats.org/officeDocument/2006/extended-properties',
  docPropsVTypes: 'http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes',
  w: 'http://schemas.openxmlformats.org/wordprocessingml/2006/main',
  s: 'http://schemas.openxmlformats.org/spreadsheetml/2006/main',
  p: 'http://schemas.openxmlformats.org/presentationml/2006/main',
  a: 'http://schemas.openxmlformats.org/drawingml/2006/main',
} as const;

const REL = {
  officeDocument: `${NS.officeRels}/officeDocument`,
  coreProperties: 'http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties',
  extendedProperties: `${NS.officeRels}/extended-properties`,
  styles: `${NS.officeRels}/styles`,
  settings: `${NS.officeRels}/settings`,
  worksheet: `${NS.officeRels}/worksheet`,
  slideMaster: `${NS.officeRels}/slideMaster`,
  slideLayout: `${NS.officeRels}/slideLayout`,
  slide: `${NS.officeRels}/slide`,
  theme: `${NS.officeRels}/theme`,
  presProps: `${NS.officeRels}/presProps`,
  viewProps: `${NS.officeRels}/viewProps`,
  tableStyles: `${NS.officeRels}/tableStyles`,
} as const;

const CT = {
  rels: 'application/vnd.openxmlformats-package.relationships+xml',
  xml: 'application/xml',
  core: 'application/vnd.openxmlformats-package.core-properties+xml',
  app: 'application/vnd.openxmlformats-officedocument.extended-properties+xml',
  theme: 'application/vnd.openxmlformats-officedocument.theme+xml',
  wordDocument: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml',
  wordStyles: 'application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml',
  wordSettings: 'application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml',
  workbook: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
  worksheet: 'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml',
  sheetStyles: 'application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml',
  presentation: 'application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml',
  slideMaster: 'application/vnd.openxmlformats-officedocument.presentationml.slideMaster+xml',
  slideLayout: 'application/vnd.openxmlformats-officedocument.presentationml.slideLayout+xml',
  slide: 'application/vnd.openxmlformats-officedocument.presentationml.slide+xml',
  presProps: 'application/vnd.openxmlformats-officedocument.presentationml.presProps+xml',
  viewProps: 'application/vnd.openxmlformats-officedocument.presentationml.viewProps+xml',
  tableStyles: 'application/vnd.openxmlformats-officedocument.presentationml.tableStyles+xml',
} as const;

function contentTypes(overrides: Record<string, string>): Buffer {
  const lines = Object.entries(overrides).map(([part, type]) => `<Override PartName="${part}" ContentType="${type}"/>`);
  return xml(`
    <Types xmlns="${NS.contentTypes}">
      <Default Extension="rels" ContentType="${CT.rels}"/>
      <Default Extension="xml" ContentType="${CT.xml}"/>
      ${lines.join('\n')}
    </Types>`);
}

/** Relationship ids are rId1, rId2 … in the order given. */
function relationships(rels: ReadonlyArray<readonly [type: string, target: string]>): Buffer {
  const lines = rels.map(([type, target], i) => `<Relationship Id="rId${i + 1}" Type="${type}" Target="${target}"/>`);
  return xml(`
    <Relationships xmlns="${NS.packageRels}">
      ${lines.join('\n')}
    </Relationships>`);
}

function packageRels(mainPart: string): Buffer {
  return relationships([
    [REL.officeDocument, mainPart],
    [REL.coreProperties, 'docProps/core.xml'],
    [REL.extendedProperties, 'docProps/app.xml'],
  ]);
}

// No creator or title: the file becomes the user's document, and editors fill these in on save.
const coreProps = xml(`
  <cp:coreProperties xmlns:cp="${NS.coreProps}"
      xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"
      xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
    <cp:revision>1</cp:revision>
    <dcterms:created xsi:type="dcterms:W3CDTF">${FIXED_W3CDTF}</dcterms:created>
    <dcterms:modified xsi:type="dcterms:W3CDTF">${FIXED_W3CDTF}</dcterms:modified>
  </cp:coreProperties>`);

const appProps = xml(`
  <Properties xmlns="${NS.appProps}" xmlns:vt="${NS.docPropsVTypes}">
    <Application>Quire</Application>
    <DocSecurity>0</DocSecurity>
  </Properties>`);

// ---------------------------------------------------------------------------------------------------------------
// blank.docx

function blankDocx(): Uint8Array {
  // A4 portrait in twentieths of a point, 1-inch margins.
  const document = xml(`
    <w:document xmlns:w="${NS.w}" xmlns:r="${NS.officeRels}">
      <w:body>
        <w:p/>
        <w:sectPr>
          <w:pgSz w:w="11906" w:h="16838"/>
          <w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="720" w:footer="720" w:gutter="0"/>
          <w:cols w:space="720"/>
          <w:docGrid w:linePitch="360"/>
        </w:sectPr>
      </w:body>
    </w:document>`);

  const heading = (id: string, name: string, level: number, size: number) => `
    <w:style w:type="paragraph" w:styleId="${id}">
      <w:name w:val="${name}"/>
      <w:basedOn w:val="Normal"/>
      <w:next w:val="Normal"/>
      <w:uiPriority w:val="9"/>
      <w:qFormat/>
      <w:pPr><w:keepNext/><w:keepLines/><w:spacing w:before="240" w:after="80"/><w:outlineLvl w:val="${level}"/></w:pPr>
      <w:rPr><w:b/><w:bCs/><w:sz w:val="${size}"/><w:szCs w:val="${size}"/></w:rPr>
    </w:style>`;

  const styles = xml(`
    <w:styles xmlns:w="${NS.w}">
      <w:docDefaults>
        <w:rPrDefault>
          <w:rPr>
            <w:rFonts w:ascii="Calibri" w:eastAsia="Calibri" w:hAnsi="Calibri" w:cs="Calibri"/>
            <w:sz w:val="22"/>
            <w:szCs w:val="22"/>
            <w:lang w:val="en-US" w:eastAsia="en-US" w:bidi="ar-SA"/>
          </w:rPr>
        </w:rPrDefault>
        <w:pPrDefault>
          <w:pPr><w:spacing w:after="160" w:line="259" w:lineRule="auto"/></w:pPr>
        </w:pPrDefault>
      </w:docDefaults>
      <w:style w:type="paragraph" w:default="1" w:styleId="Normal">
        <w:name w:val="Normal"/>
        <w:qFormat/>
      </w:style>
      <w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">
        <w:name w:val="Default Paragraph Font"/>
        <w:uiPriority w:val="1"/>
        <w:semiHidden/>
        <w:unhideWhenUsed/>
      </w:style>
      <w:style w:type="table" w:default="1" w:styleId="TableNormal">
        <w:name w:val="Normal Table"/>
        <w:uiPriority w:val="99"/>
        <w:semiHidden/>
        <w:unhideWhenUsed/>
        <w:tblPr>
          <w:tblInd w:w="0" w:type="dxa"/>
          <w:tblCellMar>
            <w:top w:w="0" w:type="dxa"/>
            <w:left w:w="108" w:type="dxa"/>
            <w:bottom w:w="0" w:type="dxa"/>
            <w:right w:w="108" w:type="dxa"/>
          </w:tblCellMar>
        </w:tblPr>
      </w:style>
      <w:style w:type="numbering" w:default="1" w:styleId="NoList">
        <w:name w:val="No List"/>
        <w:uiPriority w:val="99"/>
        <w:semiHidden/>
        <w:unhideWhenUsed/>
      </w:style>
      <w:style w:type="paragraph" w:styleId="Title">
        <w:name w:val="Title"/>
        <w:basedOn w:val="Normal"/>
        <w:next w:val="Normal"/>
        <w:uiPriority w:val="10"/>
        <w:qFormat/>
        <w:pPr><w:spacing w:after="80" w:line="240" w:lineRule="auto"/><w:contextualSpacing/></w:pPr>
        <w:rPr><w:sz w:val="56"/><w:szCs w:val="56"/></w:rPr>
      </w:style>
      ${heading('Heading1', 'heading 1', 0, 32)}
      ${heading('Heading2', 'heading 2', 1, 28)}
      ${heading('Heading3', 'heading 3', 2, 24)}
    </w:styles>`);

  // Without a compatibility mode Word opens the file in "Compatibility Mode" (as a Word 2007 document).
  const settings = xml(`
    <w:settings xmlns:w="${NS.w}">
      <w:defaultTabStop w:val="720"/>
      <w:characterSpacingControl w:val="doNotCompress"/>
      <w:compat>
        <w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/>
      </w:compat>
    </w:settings>`);

  return zip({
    '[Content_Types].xml': contentTypes({
      '/word/document.xml': CT.wordDocument,
      '/word/styles.xml': CT.wordStyles,
      '/word/settings.xml': CT.wordSettings,
      '/docProps/core.xml': CT.core,
      '/docProps/app.xml': CT.app,
    }),
    '_rels/.rels': packageRels('word/document.xml'),
    'word/document.xml': document,
    'word/_rels/document.xml.rels': relationships([
      [REL.styles, 'styles.xml'],
      [REL.settings, 'settings.xml'],
    ]),
    'word/styles.xml': styles,
    'word/settings.xml': settings,
    'docProps/core.xml': coreProps,
    'docProps/app.xml': appProps,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// blank.xlsx

function blankXlsx(): Uint8Array {
  const workbook = xml(`
    <workbook xmlns="${NS.s}" xmlns:r="${NS.officeRels}">
      <bookViews><workbookView activeTab="0"/></bookViews>
      <sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets>
    </workbook>`);

  const sheet = xml(`
    <worksheet xmlns="${NS.s}" xmlns:r="${NS.officeRels}">
      <dimension ref="A1"/>
      <sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>
      <sheetFormatPr defaultRowHeight="15"/>
      <sheetData/>
      <pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>
    </worksheet>`);

  // fills 0 and 1 are reserved by the format (none, gray125); cell style 0 is "Normal".
  const styles = xml(`
    <styleSheet xmlns="${NS.s}">
      <fonts count="1">
        <font><sz val="11"/><color rgb="FF000000"/><name val="Calibri"/><family val="2"/></font>
      </fonts>
      <fills count="2">
        <fill><patternFill patternType="none"/></fill>
        <fill><patternFill patternType="gray125"/></fill>
      </fills>
      <borders count="1">
        <border><left/><right/><top/><bottom/><diagonal/></border>
      </borders>
      <cellStyleXfs count="1">
        <xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>
      </cellStyleXfs>
      <cellXfs count="1">
        <xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
      </cellXfs>
      <cellStyles count="1">
        <cellStyle name="Normal" xfId="0" builtinId="0"/>
      </cellStyles>
      <dxfs count="0"/>
      <tableStyles count="0"/>
    </styleSheet>`);

  return zip({
    '[Content_Types].xml': contentTypes({
      '/xl/workbook.xml': CT.workbook,
      '/xl/worksheets/sheet1.xml': CT.worksheet,
      '/xl/styles.xml': CT.sheetStyles,
      '/docProps/core.xml': CT.core,
      '/docProps/app.xml': CT.app,
    }),
    '_rels/.rels': packageRels('xl/workbook.xml'),
    'xl/workbook.xml': workbook,
    'xl/_rels/workbook.xml.rels': relationships([
      [REL.worksheet, 'worksheets/sheet1.xml'],
      [REL.styles, 'styles.xml'],
    ]),
    'xl/worksheets/sheet1.xml': sheet,
    'xl/styles.xml': styles,
    'docProps/core.xml': coreProps,
    'docProps/app.xml': appProps,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// blank.pptx

/** Slide size 16:9 in EMU (13.333 in × 7.5 in). */
const SLIDE = { cx: 12192000, cy: 6858000 } as const;

const PML_NS = `xmlns:a="${NS.a}" xmlns:r="${NS.officeRels}" xmlns:p="${NS.p}"`;

const GROUP_HEADER = `
  <p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>
  <p:grpSpPr>
    <a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/><a:chExt cx="0" cy="0"/></a:xfrm>
  </p:grpSpPr>`;

interface Box {
  x: number;
  y: number;
  cx: number;
  cy: number;
}

interface Placeholder {
  id: number;
  name: string;
  /** The `<p:ph>` attributes. */
  ph: string;
  /** Position, on masters and layouts; slides inherit it from their layout. */
  box?: Box;
  bodyPr?: string;
  lstStyle?: string;
  /** Prompt text shown on masters and layouts; slides leave the placeholder empty. */
  prompt?: string;
}

function placeholder(p: Placeholder): string {
  const spPr = p.box
    ? `<p:spPr>
         <a:xfrm><a:off x="${p.box.x}" y="${p.box.y}"/><a:ext cx="${p.box.cx}" cy="${p.box.cy}"/></a:xfrm>
         <a:prstGeom prst="rect"><a:avLst/></a:prstGeom>
       </p:spPr>`
    : '<p:spPr/>';
  const paragraph = p.prompt
    ? `<a:p><a:r><a:rPr lang="en-US"/><a:t>${p.prompt}</a:t></a:r><a:endParaRPr lang="en-US"/></a:p>`
    : '<a:p><a:endParaRPr lang="en-US"/></a:p>';
  return `
    <p:sp>
      <p:nvSpPr>
        <p:cNvPr id="${p.id}" name="${p.name}"/>
        <p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr>
        <p:nvPr><p:ph ${p.ph}/></p:nvPr>
      </p:nvSpPr>
      ${spPr}
      <p:txBody>${p.bodyPr ?? '<a:bodyPr/>'}${p.lstStyle ?? '<a:lstStyle/>'}${paragraph}</p:txBody>
    </p:sp>`;
}

/** Body text levels 1–5: bullet, indent and size shrinking per level. */
function bodyLevels(): string {
  const sizes = [2800, 2400, 2000, 1800, 1800];
  return sizes
    .map((sz, i) => {
      const level = i + 1;
      const indent = 228600 + i * 457200;
      return `
        <a:lvl${level}pPr marL="${indent}" indent="-228600" algn="l" rtl="0" eaLnBrk="1" latinLnBrk="0" hangingPunct="1">
          <a:lnSpc><a:spcPct val="90000"/></a:lnSpc>
          <a:spcBef><a:spcPts val="${i === 0 ? 1000 : 500}"/></a:spcBef>
          <a:buFont typeface="Arial"/>
          <a:buChar char="&#8226;"/>
          <a:defRPr sz="${sz}" kern="1200">
            <a:solidFill><a:schemeClr val="tx1"/></a:solidFill>
            <a:latin typeface="+mn-lt"/><a:ea typeface="+mn-ea"/><a:cs typeface="+mn-cs"/>
          </a:defRPr>
        </a:lvl${level}pPr>`;
    })
    .join('');
}

const MASTER_TITLE_BOX: Box = { x: 838200, y: 365125, cx: 10515600, cy: 1325563 };
const MASTER_BODY_BOX: Box = { x: 838200, y: 1825625, cx: 10515600, cy: 4351338 };

function blankPptx(): Uint8Array {
  const presentation = xml(`
    <p:presentation ${PML_NS} saveSubsetFonts="1">
      <p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>
      <p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst>
      <p:sldSz cx="${SLIDE.cx}" cy="${SLIDE.cy}"/>
      <p:notesSz cx="6858000" cy="9144000"/>
      <p:defaultTextStyle>
        <a:defPPr><a:defRPr lang="en-US"/></a:defPPr>
        <a:lvl1pPr marL="0" algn="l" defTabSz="914400" rtl="0" eaLnBrk="1" latinLnBrk="0" hangingPunct="1">
          <a:defRPr sz="1800" kern="1200">
            <a:solidFill><a:schemeClr val="tx1"/></a:solidFill>
            <a:latin typeface="+mn-lt"/><a:ea typeface="+mn-ea"/><a:cs typeface="+mn-cs"/>
          </a:defRPr>
        </a:lvl1pPr>
      </p:defaultTextStyle>
    </p:presentation>`);

  const presentationRels = relationships([
    [REL.slideMaster, 'slideMasters/slideMaster1.xml'],
    [REL.slide, 'slides/slide1.xml'],
    [REL.presProps, 'presProps.xml'],
    [REL.viewProps, 'viewProps.xml'],
    [REL.theme, 'theme/theme1.xml'],
    [REL.tableStyles, 'tableStyles.xml'],
  ]);

  const master = xml(`
    <p:sldMaster ${PML_NS}>
      <p:cSld>
        <p:bg><p:bgRef idx="1001"><a:schemeClr val="bg1"/></p:bgRef></p:bg>
        <p:spTree>
          ${GROUP_HEADER}
          ${placeholder({
            id: 2,
            name: 'Title Placeholder 1',
            ph: 'type="title"',
            box: MASTER_TITLE_BOX,
            bodyPr:
              '<a:bodyPr vert="horz" lIns="91440" tIns="45720" rIns="91440" bIns="45720" rtlCol="0" anchor="ctr"><a:normAutofit/></a:bodyPr>',
            prompt: 'Click to edit the title',
          })}
          ${placeholder({
            id: 3,
            name: 'Text Placeholder 2',
            ph: 'type="body" idx="1"',
            box: MASTER_BODY_BOX,
            bodyPr:
              '<a:bodyPr vert="horz" lIns="91440" tIns="45720" rIns="91440" bIns="45720" rtlCol="0"><a:normAutofit/></a:bodyPr>',
            prompt: 'Click to edit the text',
          })}
        </p:spTree>
      </p:cSld>
      <p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" accent3="accent3"
        accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink"/>
      <p:sldLayoutIdLst>
        <p:sldLayoutId id="2147483649" r:id="rId1"/>
        <p:sldLayoutId id="2147483650" r:id="rId2"/>
      </p:sldLayoutIdLst>
      <p:txStyles>
        <p:titleStyle>
          <a:lvl1pPr algn="l" defTabSz="914400" rtl="0" eaLnBrk="1" latinLnBrk="0" hangingPunct="1">
            <a:lnSpc><a:spcPct val="90000"/></a:lnSpc>
            <a:spcBef><a:spcPct val="0"/></a:spcBef>
            <a:buNone/>
            <a:defRPr sz="4400" kern="1200">
              <a:solidFill><a:schemeClr val="tx1"/></a:solidFill>
              <a:latin typeface="+mj-lt"/><a:ea typeface="+mj-ea"/><a:cs typeface="+mj-cs"/>
            </a:defRPr>
          </a:lvl1pPr>
        </p:titleStyle>
        <p:bodyStyle>${bodyLevels()}</p:bodyStyle>
        <p:otherStyle>
          <a:defPPr><a:defRPr lang="en-US"/></a:defPPr>
          <a:lvl1pPr marL="0" algn="l" defTabSz="914400" rtl="0" eaLnBrk="1" latinLnBrk="0" hangingPunct="1">
            <a:defRPr sz="1800" kern="1200">
              <a:solidFill><a:schemeClr val="tx1"/></a:solidFill>
              <a:latin typeface="+mn-lt"/><a:ea typeface="+mn-ea"/><a:cs typeface="+mn-cs"/>
            </a:defRPr>
          </a:lvl1pPr>
        </p:otherStyle>
      </p:txStyles>
    </p:sldMaster>`);

  const masterRels = relationships([
    [REL.slideLayout, '../slideLayouts/slideLayout1.xml'],
    [REL.slideLayout, '../slideLayouts/slideLayout2.xml'],
    [REL.theme, '../theme/theme1.xml'],
  ]);

  // Layout 1 opens a new presentation (title slide); layout 2 is what "new slide" should offer next.
  const titleLayout = xml(`
    <p:sldLayout ${PML_NS} type="title" preserve="1">
      <p:cSld name="Title Slide">
        <p:spTree>
          ${GROUP_HEADER}
          ${placeholder({
            id: 2,
            name: 'Title 1',
            ph: 'type="ctrTitle"',
            box: { x: 1524000, y: 1122363, cx: 9144000, cy: 2387600 },
            bodyPr: '<a:bodyPr anchor="b"><a:normAutofit/></a:bodyPr>',
            lstStyle: '<a:lstStyle><a:lvl1pPr algn="ctr"><a:defRPr sz="6000"/></a:lvl1pPr></a:lstStyle>',
            prompt: 'Click to add a title',
          })}
          ${placeholder({
            id: 3,
            name: 'Subtitle 2',
            ph: 'type="subTitle" idx="1"',
            box: { x: 1524000, y: 3602038, cx: 9144000, cy: 1655762 },
            bodyPr: '<a:bodyPr><a:normAutofit/></a:bodyPr>',
            lstStyle:
              '<a:lstStyle><a:lvl1pPr marL="0" indent="0" algn="ctr"><a:buNone/><a:defRPr sz="2400"/></a:lvl1pPr></a:lstStyle>',
            prompt: 'Click to add a subtitle',
          })}
        </p:spTree>
      </p:cSld>
      <p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr>
    </p:sldLayout>`);

  const contentLayout = xml(`
    <p:sldLayout ${PML_NS} type="obj" preserve="1">
      <p:cSld name="Title and Content">
        <p:spTree>
          ${GROUP_HEADER}
          ${placeholder({ id: 2, name: 'Title 1', ph: 'type="title"', prompt: 'Click to add a title' })}
          ${placeholder({ id: 3, name: 'Content Placeholder 2', ph: 'idx="1"', prompt: 'Click to add text' })}
        </p:spTree>
      </p:cSld>
      <p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr>
    </p:sldLayout>`);

  const layoutRels = relationships([[REL.slideMaster, '../slideMasters/slideMaster1.xml']]);

  const slide = xml(`
    <p:sld ${PML_NS}>
      <p:cSld>
        <p:spTree>
          ${GROUP_HEADER}
          ${placeholder({ id: 2, name: 'Title 1', ph: 'type="ctrTitle"' })}
          ${placeholder({ id: 3, name: 'Subtitle 2', ph: 'type="subTitle" idx="1"' })}
        </p:spTree>
      </p:cSld>
      <p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr>
    </p:sld>`);

  const slideRels = relationships([[REL.slideLayout, '../slideLayouts/slideLayout1.xml']]);

  const presProps = xml(`<p:presentationPr ${PML_NS}/>`);

  const viewProps = xml(`
    <p:viewPr ${PML_NS}>
      <p:normalViewPr><p:restoredLeft sz="15620"/><p:restoredTop sz="94660"/></p:normalViewPr>
      <p:gridSpacing cx="76200" cy="76200"/>
    </p:viewPr>`);

  // The default table style named by its well-known id ("Medium Style 2 - Accent 1"), built into the editors.
  const tableStyles = xml(`<a:tblStyleLst xmlns:a="${NS.a}" def="{5C22544A-7EE6-4342-B048-85BDC9FD1C3A}"/>`);

  return zip({
    '[Content_Types].xml': contentTypes({
      '/ppt/presentation.xml': CT.presentation,
      '/ppt/slideMasters/slideMaster1.xml': CT.slideMaster,
      '/ppt/slideLayouts/slideLayout1.xml': CT.slideLayout,
      '/ppt/slideLayouts/slideLayout2.xml': CT.slideLayout,
      '/ppt/slides/slide1.xml': CT.slide,
      '/ppt/theme/theme1.xml': CT.theme,
      '/ppt/presProps.xml': CT.presProps,
      '/ppt/viewProps.xml': CT.viewProps,
      '/ppt/tableStyles.xml': CT.tableStyles,
      '/docProps/core.xml': CT.core,
      '/docProps/app.xml': CT.app,
    }),
    '_rels/.rels': packageRels('ppt/presentation.xml'),
    'ppt/presentation.xml': presentation,
    'ppt/_rels/presentation.xml.rels': presentationRels,
    'ppt/slideMasters/slideMaster1.xml': master,
    'ppt/slideMasters/_rels/slideMaster1.xml.rels': masterRels,
    'ppt/slideLayouts/slideLayout1.xml': titleLayout,
    'ppt/slideLayouts/_rels/slideLayout1.xml.rels': layoutRels,
    'ppt/slideLayouts/slideLayout2.xml': contentLayout,
    'ppt/slideLayouts/_rels/slideLayout2.xml.rels': layoutRels,
    'ppt/slides/slide1.xml': slide,
    'ppt/slides/_rels/slide1.xml.rels': slideRels,
    'ppt/theme/theme1.xml': theme(),
    'ppt/presProps.xml': presProps,
    'ppt/viewProps.xml': viewProps,
    'ppt/tableStyles.xml': tableStyles,
    'docProps/core.xml': coreProps,
    'docProps/app.xml': appProps,
  });
}

/** A complete DrawingML theme: colour scheme, font scheme and format scheme (three of each style list). */
function theme(): Buffer {
  const colour = (name: string, rgb: string) => `<a:${name}><a:srgbClr val="${rgb}"/></a:${name}>`;
  const line = (width: number) => `
    <a:ln w="${width}" cap="flat" cmpd="sng" algn="ctr">
      <a:solidFill><a:schemeClr val="phClr"/></a:solidFill>
      <a:prstDash val="solid"/>
      <a:miter lim="800000"/>
    </a:ln>`;
  const gradient = (stops: ReadonlyArray<readonly [pos: number, transform: string]>) => `
    <a:gradFill rotWithShape="1">
      <a:gsLst>
        ${stops.map(([pos, t]) => `<a:gs pos="${pos}"><a:schemeClr val="phClr">${t}</a:schemeClr></a:gs>`).join('')}
      </a:gsLst>
      <a:lin ang="5400000" scaled="0"/>
    </a:gradFill>`;
  return xml(`
    <a:theme xmlns:a="${NS.a}" name="Quire">
      <a:themeElements>
        <a:clrScheme name="Quire">
          <a:dk1><a:sysClr val="windowText" lastClr="000000"/></a:dk1>
          <a:lt1><a:sysClr val="window" lastClr="FFFFFF"/></a:lt1>
          ${colour('dk2', '1F2A44')}
          ${colour('lt2', 'EEF1F5')}
          ${colour('accent1', '2F6FDE')}
          ${colour('accent2', 'E0702B')}
          ${colour('accent3', '8A8F98')}
          ${colour('accent4', 'E8B42C')}
          ${colour('accent5', '3A8FC9')}
          ${colour('accent6', '4BA35A')}
          ${colour('hlink', '1A5FD0')}
          ${colour('folHlink', '7B4BB3')}
        </a:clrScheme>
        <a:fontScheme name="Quire">
          <a:majorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/></a:majorFont>
          <a:minorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont>
        </a:fontScheme>
        <a:fmtScheme name="Quire">
          <a:fillStyleLst>
            <a:solidFill><a:schemeClr val="phClr"/></a:solidFill>
            ${gradient([
              [0, '<a:tint val="60000"/><a:satMod val="105000"/>'],
              [100000, '<a:tint val="90000"/>'],
            ])}
            ${gradient([
              [0, '<a:shade val="95000"/>'],
              [100000, '<a:shade val="75000"/><a:satMod val="110000"/>'],
            ])}
          </a:fillStyleLst>
          <a:lnStyleLst>${line(6350)}${line(12700)}${line(19050)}</a:lnStyleLst>
          <a:effectStyleLst>
            <a:effectStyle><a:effectLst/></a:effectStyle>
            <a:effectStyle><a:effectLst/></a:effectStyle>
            <a:effectStyle>
              <a:effectLst>
                <a:outerShdw blurRad="50800" dist="25400" dir="5400000" algn="t" rotWithShape="0">
                  <a:srgbClr val="000000"><a:alpha val="40000"/></a:srgbClr>
                </a:outerShdw>
              </a:effectLst>
            </a:effectStyle>
          </a:effectStyleLst>
          <a:bgFillStyleLst>
            <a:solidFill><a:schemeClr val="phClr"/></a:solidFill>
            <a:solidFill><a:schemeClr val="phClr"><a:tint val="95000"/><a:satMod val="170000"/></a:schemeClr></a:solidFill>
            ${gradient([
              [0, '<a:tint val="95000"/><a:satMod val="150000"/>'],
              [100000, '<a:shade val="85000"/><a:satMod val="120000"/>'],
            ])}
          </a:bgFillStyleLst>
        </a:fmtScheme>
      </a:themeElements>
      <a:objectDefaults/>
      <a:extraClrSchemeLst/>
    </a:theme>`);
}

// ---------------------------------------------------------------------------------------------------------------

const outDir = process.argv[2] ?? fileURLToPath(new URL('../templates/', import.meta.url));
mkdirSync(outDir, { recursive: true });
const outputs: ReadonlyArray<readonly [file: string, build: () => Uint8Array]> = [
  ['blank.docx', blankDocx],
  ['blank.xlsx', blankXlsx],
  ['blank.pptx', blankPptx],
];
for (const [file, build] of outputs) {
  const bytes = build();
  writeFileSync(join(outDir, file), bytes);
  console.log(`${join(outDir, file)} (${bytes.length} bytes)`);
}
